package campfire_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/internal/safehttp"
)

// loopbackHooks lets webhooks reach the test's receivers on 127.0.0.1,
// which the default client refuses.
func loopbackHooks() campfire.Config {
	return campfire.Config{AllowInternalNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
}

// logRecorder is a slog.Handler that hands the server's log records to the
// test, so that it can wait for a delivery's outcome instead of sleeping.
type logRecorder struct{ records chan slog.Record }

func newLogRecorder() *logRecorder { return &logRecorder{records: make(chan slog.Record, 10000)} }

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.records <- r.Clone():
	default:
	}
	return nil
}

// attr returns the value of the record's attribute key.
func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

// isDelivery reports whether r tells how a webhook delivery ended.
func isDelivery(r slog.Record) bool {
	return strings.HasPrefix(r.Message, "campfire: webhook")
}

// waitDelivery returns the record that tells how the next webhook
// delivery ended. Whatever a receiver recorded while serving it happened
// before.
func (h *logRecorder) waitDelivery(t *testing.T, what string) slog.Record {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r := <-h.records:
			if isDelivery(r) {
				return r
			}
		case <-timeout:
			t.Fatalf("%s: the delivery did not end within 5s", what)
		}
	}
}

// connRecorder is a TCP listener that records every connection it is
// offered and closes it: a proxy, or an internal service, that nothing
// may reach.
type connRecorder struct {
	addr  string
	conns chan string
}

func newConnRecorder(t *testing.T) *connRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c := &connRecorder{addr: ln.Addr().String(), conns: make(chan string, 100)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns <- conn.RemoteAddr().String()
			conn.Close()
		}
	}()
	return c
}

// setWebhookURL stores a bot's webhook URL through the Store, as a URL kept
// from before the create-time check, or a name that resolves inside later,
// would reach the delivery.
func (w *world) setWebhookURL(t *testing.T, botID int64, raw string) {
	t.Helper()
	if _, err := w.chat.Store().UpdateUser(t.Context(), botID, campfire.UserUpdate{WebhookURL: &raw}); err != nil {
		t.Fatal(err)
	}
}

// TestWebhookRedirectIsNotFollowed is the attack of the report: a bot's
// webhook host, reachable on purpose, answers a redirect to an internal
// service. The redirect is not followed; the internal answer never reaches
// the room.
func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	internalHits := make(chan string, 10)
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits <- r.Method + " " + r.URL.Path
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "internal secret: db password hunter2")
	}))
	t.Cleanup(internal.Close)
	// The bot's host redirects with the status the message asks for.
	hook := newHookReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		var status int
		fmt.Sscanf(r.URL.Query().Get("status"), "%d", &status)
		w.Header().Set("Location", internal.URL+"/admin/secrets")
		w.WriteHeader(status)
	})
	logs := newLogRecorder()
	cfg := loopbackHooks()
	cfg.Logger = slog.New(logs)
	w := newWorld(t, cfg)
	botID, _ := w.createBot(t, "Robo", "")
	for _, status := range []int{301, 302, 303, 307, 308} {
		w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"webhook_url": fmt.Sprintf("%s?status=%d", hook.url, status)})
		w.bob.post(w.allTalk, fmt.Sprintf("@Robo ping %d", status))
		hook.next(t)
		r := logs.waitDelivery(t, fmt.Sprint(status))
		select {
		case hit := <-internalHits:
			t.Fatalf("the %d redirect was followed: the internal service got %s", status, hit)
		default:
		}
		if got := attr(r, "status").String(); r.Message != "campfire: webhook answer dropped" || got != fmt.Sprint(status) {
			t.Fatalf("delivery ended with %q status %s, want the %d answer dropped", r.Message, got, status)
		}
	}
	if err := w.chat.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, m := range w.bob.messages(w.allTalk) {
		if creatorID(m) == botID || strings.Contains(markdownOf(m), "secret") {
			t.Fatalf("the bot posted %q", markdownOf(m))
		}
	}
	select {
	case hit := <-internalHits:
		t.Fatalf("the internal service got %s", hit)
	default:
	}
}

// TestWebhookURLRefusesInternalHosts: a webhook URL that names an internal
// address, in any of the forms a resolver reads as one, or that carries a
// user name or password, is refused with 422 when a bot is created or
// edited. Names that resolve inside are caught when dialling
// (TestWebhookDialRefusesInternalAddresses).
func TestWebhookURLRefusesInternalHosts(t *testing.T) {
	refused := []string{
		"http://[::1]/hook",
		"http://[::1]:8080/hook",
		"http://localhost/hook",
		"http://LOCALHOST.:8080/hook",
		"http://bots.localhost/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0/",
		"http://0/",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://0x7f000001/",
		"http://127.1/",
		"http://127.0.1/",
		"http://0177.0.0.1/",
		"http://017700000001/",
		"http://127.0.0.1/",
		"http://127.0.0.1./",
		"http://127.9.8.7:9000/",
		"http://10.0.0.1/",
		"http://172.16.5.4/",
		"http://192.168.1.1/",
		"http://100.64.0.1/",
		"http://192.0.0.8/",
		"http://198.18.0.1/",
		"http://224.0.0.1/",
		"http://255.255.255.255/",
		"http://240.0.0.1/",
		"http://[::]/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:7f00:1]/",
		"http://[::ffff:169.254.169.254]/",
		"http://[64:ff9b::127.0.0.1]/",
		"http://[64:ff9b::a9fe:a9fe]/",
		"http://[64:ff9b:1::1]/",
		"http://[2002:7f00:1::]/",
		"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
		"http://[fe80::1%25eth0]/",
		"http://[fc00::1]/",
		"http://[fd12:3456::1]/",
		"http://[ff02::1]/",
		"https://user:pass@bots.example.com/hook",
		"https://user@bots.example.com/hook",
		"https://@bots.example.com/hook",
		"http://bots.exa_mple.com\u00a0/hook",
		"http://１２７.０.０.１/hook",
	}
	accepted := []string{
		"https://bots.example.com/hook",
		"http://bots.example.com:8080/hook?x=1",
		"http://93.184.215.14/hook",
		"http://[2606:4700::1111]/hook",
		"http://[64:ff9b::808:808]/hook",
		"https://x1.example/hook",
	}
	// Every refused URL is tried twice: no admin limit here.
	unlimited := campfire.Config{Limits: campfire.Limits{Admin: campfire.Rate{PerSecond: -1}}}
	w := newWorld(t, unlimited)
	botID, _ := w.createBot(t, "Robo", "")
	for _, raw := range refused {
		e := w.admin.do("POST", "/api/v1/account/bots", map[string]any{"name": "Sneaky", "webhook_url": raw}).wantError(t, 422, "invalid")
		if e["field"] != "webhook_url" {
			t.Errorf("POST bots %q: field %v, want webhook_url", raw, e["field"])
		}
		e = w.admin.do("PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"webhook_url": raw}).wantError(t, 422, "invalid")
		if e["field"] != "webhook_url" {
			t.Errorf("PATCH bot %q: field %v, want webhook_url", raw, e["field"])
		}
	}
	for _, raw := range accepted {
		got := w.admin.must(200, "PATCH", fmt.Sprintf("/api/v1/account/bots/%d", botID), map[string]any{"webhook_url": raw})["bot"].(map[string]any)
		if got["webhook_url"] != raw {
			t.Errorf("PATCH webhook_url %q: bot has %v", raw, got["webhook_url"])
		}
	}
	if list := w.admin.must(200, "GET", "/api/v1/account/bots", nil)["bots"].([]any); len(list) != 1 {
		t.Fatalf("refused creations stored bots: %v", list)
	}

	// A network the host names is allowed, and only that one.
	unlimited.AllowInternalNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	open := newWorld(t, unlimited)
	for _, raw := range []string{"http://127.0.0.1:8080/hook", "http://127.9.8.7/hook", "http://[::ffff:127.0.0.1]/hook", "http://localhost:8080/hook"} {
		open.admin.must(201, "POST", "/api/v1/account/bots", map[string]any{"name": "Local", "webhook_url": raw})
	}
	for _, raw := range []string{"http://10.0.0.1/", "http://[::1]/", "http://2130706433/", "http://user:pass@127.0.0.1/"} {
		open.admin.do("POST", "/api/v1/account/bots", map[string]any{"name": "Sneaky", "webhook_url": raw}).wantError(t, 422, "invalid")
	}
}

// TestWebhookDialRefusesInternalAddresses: whatever the URL says, the
// default client checks the address it actually dials, after DNS: a name
// that resolves to loopback is refused like the literal, and the receiver
// hears nothing. The same receiver is reached once the host allows its
// network.
func TestWebhookDialRefusesInternalAddresses(t *testing.T) {
	hook := newHookReceiver(t, textAnswer("internal answer"))
	port := mustURL(t, hook.url).Port()
	logs := newLogRecorder()
	w := newWorld(t, campfire.Config{Logger: slog.New(logs)})
	botID, _ := w.createBot(t, "Robo", "")
	for _, raw := range []string{
		hook.url,
		"http://localhost:" + port + "/hook",
		"http://[::1]:" + port + "/hook",
		"http://[::ffff:127.0.0.1]:" + port + "/hook",
		"http://2130706433:" + port + "/hook",
	} {
		w.setWebhookURL(t, botID, raw)
		w.bob.post(w.allTalk, "@Robo what is inside?")
		r := logs.waitDelivery(t, raw)
		select {
		case c := <-hook.calls:
			t.Fatalf("%s: the receiver got %v", raw, c.body)
		default:
		}
		err, _ := attr(r, "err").Any().(error)
		var dnsErr *net.DNSError
		if strings.Contains(raw, "2130706433") && errors.As(err, &dnsErr) {
			continue // Go's own resolver does not read the number as an address; the C library's does
		}
		if r.Message != "campfire: webhook failed" || !errors.Is(err, safehttp.ErrRefused) {
			t.Fatalf("%s: delivery ended with %q (err %v), want it refused before connecting", raw, r.Message, err)
		}
	}

	// The same receiver, once the host allows its network.
	open := newWorld(t, loopbackHooks())
	openBot, _ := open.createBot(t, "Robo", hook.url)
	open.bob.post(open.allTalk, "@Robo what is inside?")
	hook.next(t)
	open.bob.waitMessage(open.allTalk, "the bot's reply", func(m map[string]any) bool {
		return creatorID(m) == openBot && markdownOf(m) == "internal answer"
	})
}

// TestWebhookIgnoresProxyEnvironment: a proxy would hide the destination
// from the dial-time check, so the default client never takes one from the
// environment.
func TestWebhookIgnoresProxyEnvironment(t *testing.T) {
	proxy := newConnRecorder(t)
	// Before any request of this test, as net/http reads the variables once.
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(v, "http://"+proxy.addr)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	logs := newLogRecorder()
	cfg := loopbackHooks()
	cfg.Logger = slog.New(logs)
	w := newWorld(t, cfg)
	botID, _ := w.createBot(t, "Robo", "")
	w.setWebhookURL(t, botID, "http://10.20.30.40/hook")
	w.bob.post(w.allTalk, "@Robo through the proxy?")
	r := logs.waitDelivery(t, "through the proxy")
	select {
	case from := <-proxy.conns:
		t.Fatalf("the webhook went to the proxy from the environment (connection from %s)", from)
	default:
	}
	if err, _ := attr(r, "err").Any().(error); !errors.Is(err, safehttp.ErrRefused) {
		t.Fatalf("delivery ended with %q (err %v), want it refused when dialling 10.20.30.40 itself", r.Message, err)
	}
}
