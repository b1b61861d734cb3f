package sqlite

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The settings live in the DSN so that every pooled connection gets them;
// check more connections than the first.
func TestEveryConnectionHasTheSettings(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "campfire.db"), &Options{Synchronous: "full", Readers: 3, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	err = s.write(ctx, func(tx *conn) error {
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "5000", "query_only": "0",
		} {
			var got string
			if err := tx.GetContext(ctx, &got, "PRAGMA "+pragma); err != nil {
				return err
			}
			if !strings.EqualFold(got, want) {
				t.Errorf("writer: PRAGMA %s = %q, want %q", pragma, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every reader the store holds.
	if len(s.readers.all) != 3 {
		t.Fatalf("%d readers, want 3", len(s.readers.all))
	}
	for i, conn := range s.readers.all {
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "5000", "query_only": "1",
		} {
			var got string
			if err := conn.GetContext(ctx, &got, "PRAGMA "+pragma); err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(got, want) {
				t.Errorf("reader %d: PRAGMA %s = %q, want %q", i, pragma, got, want)
			}
		}
	}
}

func TestReadersCannotWrite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "campfire.db"), &Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, c := range s.readers.all {
		if _, err := c.ExecContext(ctx, `INSERT INTO account (id, name, join_code, settings) VALUES (1, 'a', 'b', '{}')`); err == nil {
			t.Fatalf("reader %d wrote to the database", i)
		}
	}
}

func TestDSNEscapesPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "odd?name#with%chars.db")
	s, err := Open(ctx, path, &Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the path given: %v", err)
	}
}

func TestFTSQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{`AND OR NOT " * ( ) NEAR`, `"AND" AND "OR" AND "NOT" AND "NEAR"*`},
		{"  ^*()  ", ""},
		{"hello, wörld", `"hello" AND "wörld"*`},
		{`a"b`, `"a" AND "b"*`},
		{"日本語", `"日本語"*`},
	} {
		if got := ftsQuery(tc.in); got != tc.want {
			t.Errorf("ftsQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

var quiet = slog.New(slog.DiscardHandler)
