package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example server starts on SQLite, serves the API and stops cleanly when
// its context ends (as on SIGINT), keeping what was written.
func TestRunServesAndShutsDown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "chat.db")
	start := func() (string, context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string {
				if k == "CAMPFIRE_DB" {
					return db
				}
				return ""
			}, pw)
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatalf("no startup line: %v (%v)", err, <-done)
		}
		go io.Copy(io.Discard, pr)
		i := strings.Index(line, "http://")
		url := strings.Fields(line[i:])[0]
		return url, cancel, done
	}
	stop := func(cancel context.CancelFunc, done chan error) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("shutdown: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("server did not stop")
		}
	}

	url, cancel, done := start()
	res, err := http.Get(url + "/up")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /up: %v %v", res, err)
	}
	res, err = http.Post(url+"/api/v1/setup", "application/json",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse"}`))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("setup: %v %v", res, err)
	}
	stop(cancel, done)

	url, cancel, done = start()
	defer stop(cancel, done)
	res, err = http.Get(url + "/api/v1/setup")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `"needed":false`) {
		t.Fatalf("after a restart setup is %s; the account was lost", body)
	}
}
