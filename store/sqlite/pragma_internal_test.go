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

// TestSynchronousSetting: the zero value runs NORMAL, "full" runs FULL, on
// the writer and on every reader, and the store says which it runs; a
// setting SQLite does not have is refused rather than ignored.
func TestSynchronousSetting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ option, name, level string }{
		{"", "NORMAL", "1"}, {"normal", "NORMAL", "1"}, {"full", "FULL", "2"}, {"FULL", "FULL", "2"},
	} {
		t.Run("option="+tc.option, func(t *testing.T) {
			s, err := Open(ctx, filepath.Join(t.TempDir(), "campfire.db"), &Options{Synchronous: tc.option, Readers: 3, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Synchronous(); got != tc.name {
				t.Errorf("Synchronous() = %q, want %q", got, tc.name)
			}
			var got string
			err = s.write(ctx, func(tx *conn) error { return tx.GetContext(ctx, &got, "PRAGMA synchronous") })
			if err != nil || got != tc.level {
				t.Errorf("writer: PRAGMA synchronous = %q (%v), want %s", got, err, tc.level)
			}
			for i, c := range s.readers.all {
				if err := c.GetContext(ctx, &got, "PRAGMA synchronous"); err != nil || got != tc.level {
					t.Errorf("reader %d: PRAGMA synchronous = %q (%v), want %s", i, got, err, tc.level)
				}
			}
		})
	}
	if s, err := Open(ctx, filepath.Join(t.TempDir(), "campfire.db"), &Options{Synchronous: "fast", Logger: quiet}); err == nil {
		s.Close()
		t.Fatal(`Open took Synchronous "fast"`)
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
