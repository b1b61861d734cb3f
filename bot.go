package campfire

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencampfire/campfire/internal/safehttp"
)

// Bot keys are Campfire's form, "<user_id>-<secret>", so that existing bot
// scripts work. Only the SHA-256 of the secret is stored.
const (
	botSecretLength = 24
	base62          = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// botMessagesPath is Campfire's URL form for a bot's posts, under the API
// prefix. The key in the path is the bot's only credential.
const botMessagesPath = "/rooms/{room_id}/{bot_key}/messages"

// newBotSecret returns botSecretLength random base62 characters (about 143
// bits), drawn without modulo bias.
func newBotSecret() (string, error) {
	out := make([]byte, 0, botSecretLength)
	buf := make([]byte, 2*botSecretLength)
	for len(out) < botSecretLength {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			// 248 = 4×62: bytes at or above it would favour the first characters.
			if b < 248 && len(out) < botSecretLength {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

// botKey is the key a bot is given: its id and its secret.
func botKey(botID int64, secret string) string { return idString(botID) + "-" + secret }

// parseBotKey splits a key into the bot's id and the secret; ok is false
// when the key does not have the form.
func parseBotKey(key string) (id int64, secret string, ok bool) {
	idPart, secret, found := strings.Cut(key, "-")
	if !found || len(secret) != botSecretLength || strings.Trim(secret, base62) != "" {
		return 0, "", false
	}
	id, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || id <= 0 || idPart[0] == '+' {
		return 0, "", false
	}
	return id, secret, true
}

// botFromKey returns the active bot whose key this is. Every failure is
// ErrUnauthenticated: a caller learns nothing about which part was wrong.
func (s *Server) botFromKey(ctx context.Context, key string) (User, error) {
	id, secret, ok := parseBotKey(key)
	if !ok {
		return User{}, ErrUnauthenticated
	}
	bot, hash, err := s.store.BotKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, err
	}
	if len(hash) == 0 || subtle.ConstantTimeCompare(hashToken(secret), hash) != 1 || !bot.Active() {
		return User{}, ErrUnauthenticated
	}
	return bot, nil
}

// Webhook delivery, as Campfire's Bot::WebhookJob: a JSON POST with a 7 s
// timeout, whose text answer becomes the bot's message.
const (
	webhookTimeout = 7 * time.Second
	// webhookTimeoutReply is Campfire's text for a bot that did not answer
	// in time; it is posted whatever the client's timeout is.
	webhookTimeoutReply = "Failed to respond within 7 seconds"
	// maxWebhookDeliveries bounds the deliveries in flight; more wait their
	// turn rather than being dropped.
	maxWebhookDeliveries = 16
)

// webhooks runs deliveries in goroutines that Shutdown cancels and waits for.
type webhooks struct {
	client *http.Client
	// own is set for the client campfire built itself, whose idle
	// connections are closed at shutdown; not for Config.WebhookClient.
	own bool
	// guard says which hosts a webhook URL may name, and the default
	// client which addresses it may dial.
	guard  safehttp.Options
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// newWebhooks delivers with client, or when it is nil with a client that
// reaches only public addresses and the networks allow names, follows no
// redirect (a redirect is how a public host would send the delivery on to
// an internal one) and takes no proxy from the environment.
func newWebhooks(client *http.Client, allow []netip.Prefix) *webhooks {
	wh := &webhooks{client: client, guard: safehttp.Options{Allow: allow, Timeout: webhookTimeout}, sem: make(chan struct{}, maxWebhookDeliveries)}
	if client == nil {
		wh.client, wh.own = safehttp.NewClient(wh.guard), true
	}
	wh.ctx, wh.cancel = context.WithCancel(context.Background())
	return wh
}

// start runs deliver in a goroutine once a delivery slot is free; after
// shutdown it runs nothing.
func (wh *webhooks) start(deliver func(ctx context.Context)) {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	if wh.closed {
		return
	}
	wh.wg.Add(1)
	go func() {
		defer wh.wg.Done()
		select {
		case wh.sem <- struct{}{}:
		case <-wh.ctx.Done():
			return
		}
		defer func() { <-wh.sem }()
		deliver(wh.ctx)
	}()
}

// shutdown cancels the deliveries in flight and waits for them, or for ctx.
func (wh *webhooks) shutdown(ctx context.Context) error {
	wh.mu.Lock()
	wh.closed = true
	wh.mu.Unlock()
	wh.cancel()
	done := make(chan struct{})
	go func() {
		wh.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		if wh.own {
			wh.client.CloseIdleConnections()
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// webhookPayload is Campfire's webhook body.
type webhookPayload struct {
	User    webhookUser    `json:"user"`
	Room    webhookRoom    `json:"room"`
	Message webhookMessage `json:"message"`
}

type webhookUser struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type webhookRoom struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Path is where the bot posts to the room. Campfire puts the bot's key
	// in it; only a hash of the key is kept here, so the path carries the
	// literal text {bot_key} for the bot to fill in.
	Path string `json:"path"`
}

type webhookMessage struct {
	ID   int64       `json:"id"`
	Body webhookBody `json:"body"`
	Path string      `json:"path"`
}

type webhookBody struct {
	HTML  string `json:"html"`
	Plain string `json:"plain"`
}

// messagePath is a message's permalink, relative to the mount point.
func messagePath(roomID, messageID int64) string {
	return "/rooms/" + idString(roomID) + "/@" + idString(messageID)
}

// notifyBots sends msg's webhooks, as Campfire does: to every active bot
// member of a direct room, and to each bot the message mentions elsewhere;
// never to the author, nor to a bot without a webhook URL. members are the
// room's members when the message was rendered.
func (s *Server) notifyBots(room Room, author User, msg Message, members []Member) {
	if s.features.DisableBots {
		return
	}
	for _, m := range members {
		if m.Role != RoleBot || m.ID == author.ID || !m.Active() || m.WebhookURL == "" {
			continue
		}
		if room.Kind != RoomDirect && !slices.Contains(msg.Mentions, m.ID) {
			continue
		}
		bot := m.User
		s.webhooks.start(func(ctx context.Context) { s.deliverWebhook(ctx, bot, author, room, msg) })
	}
}

// deliverWebhook posts the message to the bot's URL and turns a text
// answer into the bot's message in the room.
func (s *Server) deliverWebhook(ctx context.Context, bot, author User, room Room, msg Message) {
	payload := webhookPayload{
		User: webhookUser{ID: author.ID, Name: author.Name},
		Room: webhookRoom{ID: room.ID, Name: room.Name, Path: apiPrefix + "/rooms/" + idString(room.ID) + "/{bot_key}/messages"},
		Message: webhookMessage{
			ID: msg.ID,
			Body: webhookBody{
				HTML:  msg.Body.HTML,
				Plain: strings.TrimSpace(strings.ReplaceAll(msg.Body.PlainText, "@"+bot.Name, "")),
			},
			Path: messagePath(room.ID, msg.ID),
		},
	}
	body, err := json.Marshal(payload)
	if err != nil {
		s.logger.ErrorContext(ctx, "campfire: encoding a webhook", "err", err)
		return
	}
	log := s.logger.With("bot_id", bot.ID, "room_id", room.ID, "message_id", msg.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, bot.WebhookURL, bytes.NewReader(body))
	if err != nil {
		log.WarnContext(ctx, "campfire: webhook URL refused", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "campfire-webhook")
	res, err := s.webhooks.client.Do(req)
	var reply []byte
	if err == nil {
		reply, err = io.ReadAll(io.LimitReader(res.Body, s.maxBody+1))
		res.Body.Close()
	}
	switch {
	case err != nil && isTimeout(err) && ctx.Err() == nil:
		// The client's timeout, not shutdown: tell the room, as Campfire does.
		log.InfoContext(ctx, "campfire: webhook timed out", "err", err)
		s.postBotReply(ctx, log, bot, room.ID, webhookTimeoutReply)
		return
	case err != nil:
		if ctx.Err() == nil {
			log.WarnContext(ctx, "campfire: webhook failed", "err", err)
		}
		return
	case res.StatusCode == http.StatusNoContent:
		return // the bot has nothing to say
	case res.StatusCode != http.StatusOK:
		log.InfoContext(ctx, "campfire: webhook answer dropped", "status", res.StatusCode)
		return
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt != "text/plain" && mt != "text/html" {
		log.InfoContext(ctx, "campfire: webhook answer dropped", "content_type", mt)
		return
	}
	if int64(len(reply)) > s.maxBody {
		log.InfoContext(ctx, "campfire: webhook answer dropped: too large")
		return
	}
	if text := strings.TrimSpace(string(reply)); text != "" {
		s.postBotReply(ctx, log, bot, room.ID, text)
	}
}

// postBotReply posts a webhook's answer as the bot. The posting limit
// applies, so that bots answering each other cannot flood a room.
func (s *Server) postBotReply(ctx context.Context, log *slog.Logger, bot User, roomID int64, text string) {
	if err := s.allowPost(bot); err != nil {
		log.WarnContext(ctx, "campfire: webhook answer dropped: posting limit")
		return
	}
	if _, _, err := s.PostMessage(ctx, roomID, bot, text, ""); err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "campfire: posting a webhook answer", "err", err)
	}
}

// isTimeout reports whether a delivery failed on a timeout: the
// http.Client's Timeout (or a transport's own timeouts), which report
// themselves as net.Error timeouts.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
