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

// TestSyncFlag: -sync (or CAMPFIRE_SYNC) chooses what an acknowledged post
// survives, normal (a crash of the process) by default or full (a power
// loss too); the startup line says what the store runs with, as the store
// read it back. Anything else is refused before the server listens.
func TestSyncFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"default", nil, "", "synchronous NORMAL"},
		{"flag", []string{"-sync", "full"}, "", "synchronous FULL"},
		{"env", nil, "full", "synchronous FULL"},
		{"flag over env", []string{"-sync", "normal"}, "FULL", "synchronous NORMAL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "chat.db")
			getenv := func(k string) string {
				return map[string]string{"CAMPFIRE_DB": db, "CAMPFIRE_SYNC": tc.env}[k]
			}
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, tc.args...), getenv, pw)
				pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			go io.Copy(io.Discard, pr)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("run: %v", err)
			}
			if !strings.Contains(line, tc.want) {
				t.Fatalf("startup line %q (%v), want it to say %s", line, err, tc.want)
			}
		})
	}
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-sync", "off"}, func(k string) string {
		if k == "CAMPFIRE_DB" {
			return filepath.Join(t.TempDir(), "chat.db")
		}
		return ""
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-sync") {
		t.Fatalf("-sync off: %v, want an error naming -sync", err)
	}
}
