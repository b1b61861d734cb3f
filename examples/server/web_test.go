package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The example server serves the embedded client: the app for deep links,
// its hashed assets cached for good, and never for API paths.
func TestWebApp(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":{"code":"not_found","message":"no such endpoint"}}`))
	})
	h := routes(api)
	get := func(path string) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	for _, path := range []string{"/", "/rooms/7", "/rooms/7/@42", "/join/abcd-efgh-jkmn", "/search"} {
		res := get(path)
		if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `<div id="root">`) {
			t.Errorf("GET %s = %d, want the app", path, res.Code)
		}
		if cc := res.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, cc)
		}
		if csp := res.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
	}

	res := get("/api/v1/nothing")
	if res.Code != http.StatusNotFound || !strings.Contains(res.Body.String(), "not_found") {
		t.Errorf("GET /api/v1/nothing = %d %s, want the API's 404", res.Code, res.Body)
	}
	if res := get("/assets/missing-123.js"); res.Code != http.StatusNotFound {
		t.Errorf("a missing asset = %d, want 404", res.Code)
	}

	assets, err := fs.Glob(webDist, "web/dist/assets/*.js")
	if err != nil || len(assets) == 0 {
		t.Fatalf("no built assets embedded (%v)", err)
	}
	asset := strings.TrimPrefix(assets[0], "web/dist")
	res = get(asset)
	if res.Code != http.StatusOK {
		t.Fatalf("GET %s = %d", asset, res.Code)
	}
	if cc := res.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("GET %s: Cache-Control %q, want a long cache", asset, cc)
	}
	if ct := res.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("GET %s: Content-Type %q", asset, ct)
	}
}
