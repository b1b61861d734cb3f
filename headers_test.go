package campfire_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/transport/sse"
	cfws "github.com/opencampfire/campfire/transport/websocket"
)

// TestJSONAnswersCarryNosniff: every JSON answer, success or error, tells
// the browser not to guess another type (X-Content-Type-Options: nosniff),
// so that no answer that echoes a user's text can be run as a script or
// shown as HTML. One row per way an answer is written: handlers' successes,
// errors mapped from each sentinel, the checks that run before a handler
// (content type, size, JSON, cross-origin, session), the mux's own 404 and
// 405, the bot path and the transports' refusals. TestAccessMatrix checks
// the header on every route for every kind of caller.
func TestJSONAnswersCarryNosniff(t *testing.T) {
	w := newWorld(t, campfire.Config{
		MaxBodyBytes: 1 << 10,
		Transports:   []campfire.Transport{cfws.New(nil), sse.New(nil)},
	})
	anon := newClient(t, w.ts.URL)
	msg := w.bob.post(w.allTalk, "hello")
	as := func(h, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(h, v) } }
	for _, tc := range []struct {
		name         string
		c            *client
		method, path string
		body         any
		opts         []func(*http.Request)
		status       int
	}{
		{"features, no session", anon, "GET", "/api/v1/features", nil, nil, 200},
		{"setup state", anon, "GET", "/api/v1/setup", nil, nil, 200},
		{"session", w.bob, "GET", "/api/v1/session", nil, nil, 200},
		{"rooms", w.bob, "GET", "/api/v1/rooms", nil, nil, 200},
		{"a page of messages", w.bob, "GET", roomPath(w.allTalk, "/messages"), nil, nil, 200},
		{"events", w.bob, "GET", roomPath(w.allTalk, "/events?since=0"), nil, nil, 200},
		{"search", w.bob, "GET", "/api/v1/search?q=hello", nil, nil, 200},
		{"users", w.bob, "GET", "/api/v1/users", nil, nil, 200},
		{"a post", w.bob, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "<b>hi</b>"}, nil, 201},
		{"an edit", w.bob, "PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(msg))), map[string]any{"body": "<i>edited</i>"}, nil, 200},
		{"a profile", w.bob, "PATCH", "/api/v1/users/me", map[string]any{"bio": "<script>"}, nil, 200},
		{"a new room", w.bob, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "<Lounge>"}, nil, 201},
		{"no session", anon, "GET", "/api/v1/rooms", nil, nil, 401},
		{"wrong password", anon, "POST", "/api/v1/session", map[string]any{"email": "bob@example.com", "password": "<html>"}, nil, 401},
		{"not allowed", w.bob, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.carolID), map[string]any{"role": "admin"}, nil, 403},
		{"cross-origin", w.bob, "POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": "x"}, []func(*http.Request){as("Sec-Fetch-Site", "cross-site")}, 403},
		{"a room outside", w.carol, "GET", roomPath(w.secret, ""), nil, nil, 404},
		{"no such endpoint", w.bob, "GET", "/api/v1/no/such/<endpoint>", nil, nil, 404},
		{"no such method", w.bob, "DELETE", "/api/v1/features", nil, nil, 405},
		{"set up already", anon, "POST", "/api/v1/setup", map[string]any{"name": "Eve", "email": "eve@example.com", "password": testPassword}, nil, 409},
		{"not JSON", w.bob, "POST", "/api/v1/rooms", "<html>", nil, 400},
		{"too large", w.bob, "POST", "/api/v1/rooms", `{"name":"` + strings.Repeat("x", 2<<10) + `"}`, nil, 413},
		{"wrong content type", w.bob, "POST", "/api/v1/rooms", "<html>", []func(*http.Request){as("Content-Type", "text/html")}, 415},
		{"invalid", w.bob, "POST", "/api/v1/rooms", map[string]any{"kind": "<kind>"}, nil, 422},
		{"a bot key that is none", anon, "POST", roomPath(w.allTalk, "/1-nokey/messages"), "hi", []func(*http.Request){as("Content-Type", "text/plain")}, 401},
		{"websocket without a session", anon, "GET", "/api/v1/ws", nil, nil, 401},
		{"sse without a session", anon, "GET", "/api/v1/sse?rooms=1:0", nil, nil, 401},
		{"sse with malformed rooms", w.bob, "GET", "/api/v1/sse?rooms=<x>", nil, nil, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do(tc.method, tc.path, tc.body, tc.opts...)
			if r.status != tc.status {
				t.Fatalf("%s %s: %d, want %d; %s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want JSON", ct)
			}
			if got := r.header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Fatalf("X-Content-Type-Options %q, want exactly nosniff", got)
			}
		})
	}
}
