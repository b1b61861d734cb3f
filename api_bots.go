package campfire

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxWebhookURLLength bounds a bot's webhook URL.
const MaxWebhookURLLength = 2000

// botJSON is the Bot shape: the User shape plus where its webhooks go. Only
// admins see it.
type botJSON struct {
	userJSON
	WebhookURL string `json:"webhook_url"`
}

func botFor(u User) botJSON { return botJSON{userJSON: publicUser(u), WebhookURL: u.WebhookURL} }

// normalizeWebhookURL accepts "" (no webhooks) or an absolute http or
// https URL without a user name or password, whose host is not an
// internal address written out (see safehttp.Options.CheckHost), unless
// Config.AllowInternalNetworks names it. A name that resolves inside
// passes here and is refused when dialled.
func (s *Server) normalizeWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > MaxWebhookURLLength {
		return "", invalid("webhook_url", "must be at most %d characters", MaxWebhookURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsFunc(raw, isControl) {
		return "", invalid("webhook_url", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return "", invalid("webhook_url", "must not contain a user name or password")
	}
	if err := s.webhooks.guard.CheckHost(u.Hostname()); err != nil {
		return "", invalid("webhook_url", "must name a public host, not a loopback, private or other internal address")
	}
	return raw, nil
}

// botAdmin lets admins manage bots while the feature is on.
func (s *Server) botAdmin(u User) error {
	if s.features.DisableBots {
		return &FeatureError{Feature: "bots"}
	}
	if u.Role != RoleAdmin {
		return forbidden("only admins can manage bots")
	}
	return nil
}

// pathBot resolves {id} to an active bot; deactivated bots are gone, as
// in Campfire's admin pages.
func (s *Server) pathBot(r *http.Request) (User, error) {
	id, err := pathID(r, "id", "bot")
	if err != nil {
		return User{}, err
	}
	bot, _, err := s.store.BotKey(r.Context(), id)
	if errors.Is(err, ErrNotFound) || err == nil && !bot.Active() {
		return User{}, NotFound("bot")
	}
	return bot, err
}

func (s *Server) getBots(w http.ResponseWriter, r *http.Request, u User) error {
	if err := s.botAdmin(u); err != nil {
		return err
	}
	users, err := s.store.Users(r.Context(), UserQuery{ActiveOnly: true})
	if err != nil {
		return err
	}
	bots := []botJSON{}
	for _, x := range users {
		if x.Role == RoleBot {
			bots = append(bots, botFor(x))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"bots": bots})
	return nil
}

type botRequest struct {
	Name       *string `json:"name"`
	WebhookURL *string `json:"webhook_url"`
}

func (s *Server) postBot(w http.ResponseWriter, r *http.Request, u User) error {
	if err := s.botAdmin(u); err != nil {
		return err
	}
	var req botRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	var name, hook string
	if req.Name != nil {
		name = *req.Name
	}
	name, err := normalizeUserName(name)
	if err != nil {
		return err
	}
	if req.WebhookURL != nil {
		if hook, err = s.normalizeWebhookURL(*req.WebhookURL); err != nil {
			return err
		}
	}
	// Only the secret is hashed, so the bot can be stored with its key
	// before the store assigns the id that the key starts with.
	secret, err := newBotSecret()
	if err != nil {
		return err
	}
	bot, err := s.store.CreateUser(r.Context(), NewUser{Name: name, Role: RoleBot, BotKeyHash: hashToken(secret), WebhookURL: hook})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"bot": botFor(bot), "bot_key": botKey(bot.ID, secret)})
	return nil
}

func (s *Server) patchBot(w http.ResponseWriter, r *http.Request, u User) error {
	if err := s.botAdmin(u); err != nil {
		return err
	}
	bot, err := s.pathBot(r)
	if err != nil {
		return err
	}
	var req botRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	var upd UserUpdate
	if req.Name != nil {
		n, err := normalizeUserName(*req.Name)
		if err != nil {
			return err
		}
		upd.Name = &n
	}
	if req.WebhookURL != nil {
		h, err := s.normalizeWebhookURL(*req.WebhookURL)
		if err != nil {
			return err
		}
		upd.WebhookURL = &h
	}
	bot, err = s.store.UpdateUser(r.Context(), bot.ID, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"bot": botFor(bot)})
	return nil
}

func (s *Server) postBotKey(w http.ResponseWriter, r *http.Request, u User) error {
	if err := s.botAdmin(u); err != nil {
		return err
	}
	bot, err := s.pathBot(r)
	if err != nil {
		return err
	}
	// A new secret replaces the stored hash: the old key stops working.
	secret, err := newBotSecret()
	if err != nil {
		return err
	}
	hash := hashToken(secret)
	bot, err = s.store.UpdateUser(r.Context(), bot.ID, UserUpdate{BotKeyHash: &hash})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"bot": botFor(bot), "bot_key": botKey(bot.ID, secret)})
	return nil
}

// deleteBot deactivates the bot and forgets its key, so that reactivating
// it (PATCH /users/{id}) needs a new key.
func (s *Server) deleteBot(w http.ResponseWriter, r *http.Request, u User) error {
	if err := s.botAdmin(u); err != nil {
		return err
	}
	bot, err := s.pathBot(r)
	if err != nil {
		return err
	}
	status, noKey := StatusDeactivated, []byte{}
	if err := s.deactivate(r.Context(), bot.ID, UserUpdate{Status: &status, BotKeyHash: &noKey}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// asBot authenticates a request by the bot key in its path, never by a
// session, and runs h as the bot. The room id moves to {id}, where the
// session handlers that bots share read it.
func (s *Server) asBot(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.features.DisableBots {
			return &FeatureError{Feature: "bots"}
		}
		bot, err := s.botFromKey(r.Context(), r.PathValue("bot_key"))
		if err != nil {
			return err
		}
		r.SetPathValue("id", r.PathValue("room_id"))
		return h(w, r, bot)
	}
}

// postBotMessage is Campfire's bot post: the raw message as the body
// (curl -d 'Hello!' URL), whatever its content type.
func (s *Server) postBotMessage(w http.ResponseWriter, r *http.Request, bot User) error {
	room, err := s.pathRoom(r, bot)
	if err != nil {
		return err
	}
	text, err := s.readRawBody(w, r, "body")
	if err != nil {
		return err
	}
	if err := s.allowPost(bot); err != nil {
		return err
	}
	msg, _, err := s.post(r.Context(), room.Room, bot, text, "")
	if err != nil {
		return err
	}
	w.Header().Set("Location", messagePath(room.ID, msg.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"message": msg})
	return nil
}

// patchBotMessage replaces the body of one of the bot's own messages with
// the raw body.
func (s *Server) patchBotMessage(w http.ResponseWriter, r *http.Request, bot User) error {
	room, msg, err := s.pathMessage(r, bot)
	if err != nil {
		return err
	}
	if msg.Creator.ID != bot.ID {
		return forbidden("a bot can only edit its own messages")
	}
	text, err := s.readRawBody(w, r, "body")
	if err != nil {
		return err
	}
	return s.editMessage(w, r, room.ID, msg.ID, text)
}

// postBotBoost boosts a message with the raw body as the content.
func (s *Server) postBotBoost(w http.ResponseWriter, r *http.Request, bot User) error {
	if s.features.DisableBoosts {
		return &FeatureError{Feature: "boosts"}
	}
	room, msg, err := s.pathMessage(r, bot)
	if err != nil {
		return err
	}
	content, err := s.readRawBody(w, r, "content")
	if err != nil {
		return err
	}
	if err := s.allowPost(bot); err != nil {
		return err
	}
	return s.createBoost(w, r, bot, room.ID, msg.ID, content)
}

var errMultipart = &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "attachments are not supported; send the message as the raw body"}

// readRawBody reads what a bot sends: the whole body, as text; blank is
// invalid (field names the field). curl -d sends it as
// application/x-www-form-urlencoded without encoding it, so every content
// type is read as text, except multipart (an attachment).
func (s *Server) readRawBody(w http.ResponseWriter, r *http.Request, field string) (string, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return "", errMultipart
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", errTooLarge
		}
		return "", err
	}
	text := string(b)
	if strings.TrimSpace(text) == "" {
		return "", invalid(field, "must not be empty")
	}
	return text, nil
}
