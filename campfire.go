// Package campfire is a complete team chat for any Go web application:
// rooms (open, closed and direct), rich-text messages with @mentions and
// /play sounds, boosts, search, presence and typing, delivered live over
// WebSockets or Server-Sent Events.
//
// A host builds a [*Server] from a [Store] and the transports it wants, and
// mounts it as an [http.Handler] under any prefix:
//
//	db, err := sqlite.Open(ctx, "chat.db", nil)
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	chat, err := campfire.New(campfire.Config{
//		Store:      db,
//		Transports: []campfire.Transport{websocket.New(nil), sse.New(nil)},
//	})
//	if err != nil {
//		return err
//	}
//	defer chat.Shutdown(ctx)
//	mux.Handle("/chat/", http.StripPrefix("/chat", chat))
//
// The HTTP API and the event stream are described in PROTOCOL.md. Without
// [Config.Authenticate], campfire keeps its own accounts: the first visitor
// sets up the admin and the "All Talk" room, and others join with the
// account's join code.
package campfire

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Config configures a [Server]. Only Store is required; every other field's
// zero value is a documented default.
type Config struct {
	// Store keeps everything durable. Required.
	Store Store

	// Transports carry the live event stream to clients (WebSocket, SSE).
	// Nil: no live events; the HTTP API still works, and clients can poll
	// GET /api/v1/rooms/{id}/events.
	Transports []Transport

	// Broker carries events between the nodes of a cluster. Nil: in-process,
	// one node.
	Broker Broker

	// Authenticate, when set, maps a request to the host's signed-in person,
	// who is provisioned as a chat user on first sight (by ExternalID). It
	// returns an error matching ErrUnauthenticated for anonymous requests.
	// The built-in setup, join and password sign-in endpoints are then off.
	// Nil: built-in accounts.
	Authenticate func(*http.Request) (Identity, error)

	// Features switches optional features off. The zero value enables every
	// feature this version has.
	Features Features

	// TrustedOrigins are origins ("https://app.example.com") allowed to make
	// cross-origin unsafe requests and WebSocket upgrades. Nil: same origin only.
	TrustedOrigins []string

	// SecureCookies marks the session cookie Secure on every request, for a
	// host behind a proxy that terminates TLS. False: Secure only when the
	// request itself came over TLS.
	SecureCookies bool

	// SessionMaxAge is how long a built-in session lasts. Zero: one year.
	SessionMaxAge time.Duration

	// QueueBytes bounds the events waiting for one live connection; a
	// connection too slow to take them is closed (WebSocket code 1008) and
	// resumes when it reconnects. Zero: [DefaultQueueBytes].
	QueueBytes int

	// EventRetention is how long each room's event log keeps events for
	// clients that resume (the room's latest event is always kept). A
	// client whose cursor is older gets a resync and reloads the room. The
	// server prunes the log hourly. Zero: [DefaultEventRetention] (30 days).
	// Negative: events are kept for ever.
	EventRetention time.Duration

	// MaxConnectionsPerUser bounds one user's live connections on a node
	// (tabs, devices); past it, upgrades answer 429. Zero: 32.
	MaxConnectionsPerUser int

	// MaxBodyBytes caps request bodies. Zero: 1 MiB.
	MaxBodyBytes int64

	// PostRate is how many messages and boosts one user may post per
	// second, sustained; PostBurst how many at once. Past it, posts answer
	// 429 with Retry-After; other users are not slowed. Zero: 5 a second
	// with bursts of 20 (a person typing fast, or pasting a few lines, never
	// meets it). Negative: no limit.
	PostRate  float64
	PostBurst int

	// Limits bound how often one user may repeat each other kind of write
	// (edits, rooms, profile, admin changes, reads and typing), and posts
	// when Limits.Posts is set. The zero value is the defaults that
	// [Limits] documents.
	Limits Limits

	// BodyReadTimeout bounds the time a request body may take to arrive,
	// on every route but the transports' streams, so that a client sending
	// a byte at a time cannot hold a connection; past it the request
	// answers 408 and the connection closes. Zero: 10 seconds. Negative:
	// no bound (the host's http.Server governs).
	BodyReadTimeout time.Duration

	// DeviceKey signs the device cookie that a successful sign-in leaves,
	// which lets that browser past the per-email sign-in ceiling while
	// many addresses guess the account's password (SECURITY.md). Nodes of
	// a cluster share one key. Nil: a random key made by New, so a browser
	// is recognized until the process restarts, by the node that signed it
	// in.
	DeviceKey []byte

	// ClientIP returns the address that login throttling counts per. Nil:
	// the host part of the request's RemoteAddr. Hosts behind a proxy set
	// this to read their trusted forwarding header.
	ClientIP func(*http.Request) string

	// WebhookClient sends bots their webhooks. Nil: a client with
	// Campfire's 7-second timeout that is safe to point at any URL an
	// admin names: it dials only public addresses (checked after DNS, so
	// a name that resolves inside is refused too) and the networks in
	// AllowInternalNetworks, follows no redirect and uses no proxy from
	// the environment. A delivery that fails with a timeout error (a
	// net.Error whose Timeout is true, as the client's Timeout gives)
	// posts "Failed to respond within 7 seconds" as the bot, as Campfire
	// does. A host that supplies its own client takes over that
	// protection: whatever the client reaches, every admin can reach
	// through a webhook, and its answers are posted into rooms.
	WebhookClient *http.Client

	// AllowInternalNetworks names networks that campfire's own outbound
	// requests (bot webhooks) may reach although they are not public:
	// loopback, private, shared, link-local and the other ranges SECURITY.md
	// lists. Nil: none, so webhooks reach only public addresses. Every admin
	// can point a webhook into a network named here: name only networks
	// whose services expect to hear from campfire (a bot host on the private
	// network). It also governs which literal addresses a webhook URL may
	// name, whichever client sends it.
	AllowInternalNetworks []netip.Prefix

	// Logger receives the server's structured logs. Nil: slog.Default().
	Logger *slog.Logger

	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// Features lists the optional features a host can switch off. A switched-off
// feature answers 501 feature_disabled, and GET /api/v1/features says so.
type Features struct {
	DisableSearch bool
	DisableBoosts bool
	// DisableBots turns off bot management, bot posting and webhooks.
	DisableBots bool
}

// Transport is a way to carry the event stream to clients. The transport
// packages (transport/websocket, transport/sse) implement it.
type Transport interface {
	// Routes returns the transport's handlers by ServeMux pattern, relative
	// to the API prefix (e.g. "GET /ws" serves GET /api/v1/ws). The
	// handlers use s to authenticate requests and to subscribe to events.
	Routes(s *Server) map[string]http.Handler
}

// Server is a campfire: an [http.Handler] serving the JSON API and the
// transports' event streams, and a Go API for the host.
type Server struct {
	store    Store
	hub      *Hub
	renderer *Renderer
	features Features
	auth     func(*http.Request) (Identity, error)
	logger   *slog.Logger
	now      func() time.Time
	clientIP func(*http.Request) string

	sessionMaxAge time.Duration
	secureCookies bool
	maxBody       int64

	mux           *http.ServeMux
	crossOrigin   *http.CrossOriginProtection
	loginThrottle *loginThrottle
	loginLimits   *limiterSet // 10 tries, then one every 18 s: join codes per address, current passwords per user
	postLimits    *limiterSet // nil: posting is not limited
	writeLimits   writeLimits
	deviceKey     []byte
	bodyTimeout   time.Duration // negative: none
	dummyHash     func() string
	webhooks      *webhooks
	shutdownOnce  sync.Once
}

// New validates cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("campfire: Config.Store is required")
	}
	s := &Server{
		store:         cfg.Store,
		renderer:      NewRenderer(),
		features:      cfg.Features,
		auth:          cfg.Authenticate,
		logger:        cfg.Logger,
		now:           cfg.Now,
		clientIP:      cfg.ClientIP,
		sessionMaxAge: cfg.SessionMaxAge,
		secureCookies: cfg.SecureCookies,
		maxBody:       cfg.MaxBodyBytes,
		crossOrigin:   http.NewCrossOriginProtection(),
		webhooks:      newWebhooks(cfg.WebhookClient, cfg.AllowInternalNetworks),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.clientIP == nil {
		s.clientIP = remoteHost
	}
	if s.sessionMaxAge <= 0 {
		s.sessionMaxAge = 365 * 24 * time.Hour
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	for _, o := range cfg.TrustedOrigins {
		if err := s.crossOrigin.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	s.setLimits(cfg)
	s.dummyHash = sync.OnceValue(func() string {
		h, _ := HashPassword("campfire: no such user")
		return h
	})
	retention := cfg.EventRetention
	if retention == 0 {
		retention = DefaultEventRetention
	}
	hub, err := newHub(hubConfig{retention: retention, broker: cfg.Broker, store: cfg.Store, logger: s.logger, now: s.now, queueBytes: cfg.QueueBytes, maxConns: cfg.MaxConnectionsPerUser})
	if err != nil {
		return nil, err
	}
	s.hub = hub
	s.mux = s.routes(cfg.Transports)
	return s, nil
}

// Hub is the server's event hub: subscribe to it to follow rooms from Go.
func (s *Server) Hub() *Hub { return s.hub }

// Logger is the server's logger ([Config.Logger], or slog.Default()): the
// transports log through it unless they are given a logger of their own.
func (s *Server) Logger() *slog.Logger { return s.logger }

// Store is the store the server was built with. Its writes are raw
// persistence: they check no rule and publish no event, so open clients do
// not learn of them (a room created through it reaches no sidebar, a user
// deactivated through it keeps their open connections). Act through the
// Server's methods, such as [Server.PostMessage], where one exists.
func (s *Server) Store() Store { return s.store }

// ServeHTTP serves the API under /api/v1.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.mux.Handler(r); pattern == "" {
		// No route: answer the mux's 404 or 405 in the protocol's shape.
		jsonMuxError(h).ServeHTTP(w, r)
		return
	}
	// The mux, not the handler found above, sets the request's path values.
	s.mux.ServeHTTP(w, r)
}

// Shutdown closes every live connection with a going-away code, cancels
// the bot webhooks in flight, and waits until the server's goroutines are
// gone or ctx ends. It does not close the Store, which the host opened.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.shutdownOnce.Do(func() {
		werr := s.webhooks.shutdown(ctx)
		if err = s.hub.shutdown(ctx); err == nil {
			err = werr
		}
	})
	return err
}

// remoteHost is the host part of r.RemoteAddr.
func remoteHost(r *http.Request) string {
	addr := r.RemoteAddr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[:i]
	}
	return strings.Trim(addr, "[]")
}
