package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
)

// integrityCheck runs PRAGMA integrity_check on the database file at path.
func integrityCheck(tb testing.TB, path string) {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		tb.Fatal(err)
	}
	if res != "ok" {
		tb.Fatalf("integrity_check of %s: %s", path, res)
	}
}

// TestBackupOfALiveStore takes a backup while writers post without pause:
// every message acknowledged before Backup was called is in it, and it is
// one consistent snapshot (the room's event log gap-free, each event's
// message there), not a copy torn between commits.
func TestBackupOfALiveStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t, nil)
	fx := setUp(t, s)
	room := fx.room.ID
	var first []int64
	for i := range 50 {
		first = append(first, f(t, s).post(room, fx.admin.ID, fmt.Sprint("before anything ", i)).ID)
	}

	const writers = 4
	var (
		mu    sync.Mutex
		acked = first // ids of messages whose CreateMessage returned
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, writers)
	)
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				text := fmt.Sprintf("writer %d message %d", w, i)
				posted, err := s.CreateMessage(ctx, campfire.NewMessage{
					RoomID: room, CreatorID: fx.member.ID, ClientMessageID: fmt.Sprintf("w%d-%d", w, i),
					Body: campfire.Body{Markdown: text, HTML: "<p>" + text + "</p>", PlainText: text},
				})
				m := posted.Message
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked = append(acked, m.ID)
				mu.Unlock()
			}
		})
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters()

	// Let the writers get going (bounded: they post hundreds a second).
	for i := 0; ackedCount() < 150; i++ {
		if i == 1000 {
			t.Fatal("the writers are not writing")
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		runtime.Gosched()
		m := f(t, s).post(room, fx.admin.ID, "pacing")
		mu.Lock()
		acked = append(acked, m.ID)
		mu.Unlock()
	}
	mu.Lock()
	before := slices.Clone(acked)
	mu.Unlock()
	dst := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, dst); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	during := ackedCount() - len(before)
	// Writes go on after the backup too: nothing is left locked.
	after := ackedCount()
	for i := 0; ackedCount() < after+20; i++ {
		if i == 1000 {
			t.Fatal("no writes after the backup")
		}
		f(t, s).post(room, fx.admin.ID, "after the backup")
	}
	stopWriters()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d messages acknowledged before the backup, %d while it ran, %d in all", len(before), during, ackedCount())

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("backup file mode %v: others can read the chat", perm)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("files beside the backup: %v, want the backup alone", entries)
	}

	integrityCheck(t, dst)
	b := reopen(t, dst, nil)
	for _, id := range before {
		if _, err := b.Message(ctx, room, id); err != nil {
			t.Fatalf("message %d, acknowledged before the backup began, is not in it: %v", id, err)
		}
	}

	// One snapshot: the log runs 1..LastSeq without a gap, and each of its
	// message.created events has its message, which no later commit can
	// have left half-written.
	r, err := b.Room(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	events, err := b.Events(ctx, room, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(events)) != r.LastSeq {
		t.Fatalf("backup: %d events, last_seq %d", len(events), r.LastSeq)
	}
	for i, ev := range events {
		if ev.Seq != int64(i)+1 {
			t.Fatalf("backup: event %d has seq %d", i, ev.Seq)
		}
	}
	var msgs int
	for q := (campfire.MessageQuery{RoomID: room, Limit: 100}); ; {
		page, err := b.Messages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		msgs += len(page.Messages)
		if !page.MoreBefore || len(page.Messages) == 0 {
			break
		}
		q.Before = page.Messages[0].ID // pages go back from the newest
	}
	if int64(msgs) != r.LastSeq {
		t.Fatalf("backup: %d messages for %d message.created events", msgs, r.LastSeq)
	}
	if msgs < len(before) {
		t.Fatalf("backup: %d messages, fewer than the %d acknowledged before it", msgs, len(before))
	}
}

func TestBackupRefusesAnExistingPath(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t, nil)
	setUp(t, s)
	dir := t.TempDir()

	kept := filepath.Join(dir, "precious.db")
	if err := os.WriteFile(kept, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, kept); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Backup over an existing file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(kept); string(b) != "keep me" {
		t.Fatalf("the existing file was changed: %q", b)
	}

	first := filepath.Join(dir, "first.db")
	if err := s.Backup(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, first); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("a second Backup to the same path: %v, want fs.ErrExist", err)
	}
	integrityCheck(t, first)

	if runtime.GOOS != "windows" {
		link := filepath.Join(dir, "dangling.db")
		if err := os.Symlink(filepath.Join(dir, "nowhere"), link); err != nil {
			t.Fatal(err)
		}
		if err := s.Backup(ctx, link); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Backup through a symlink: %v, want fs.ErrExist", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatal("Backup wrote through a symlink")
		}
	}

	if err := s.Backup(ctx, filepath.Join(dir, "no", "such", "dir.db")); err == nil {
		t.Fatal("Backup into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"dangling.db", "first.db", "precious.db"}; runtime.GOOS != "windows" && !slices.Equal(names, want) {
		t.Fatalf("directory holds %v, want %v (no temporary files left)", names, want)
	}
}

func TestBackupCanceled(t *testing.T) {
	s, _ := openStore(t, nil)
	setUp(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if err := s.Backup(ctx, filepath.Join(dir, "b.db")); err == nil {
		t.Fatal("Backup with a canceled context succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a canceled Backup left %v", entries)
	}
	// The store is unharmed.
	if _, err := s.Account(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A backup opens as a store, with what the original held.
func TestBackupRestores(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t, &sqlite.Options{Synchronous: "full"})
	fx := setUp(t, s)
	m := f(t, s).post(fx.room.ID, fx.member.ID, "restore me")
	dst := filepath.Join(t.TempDir(), "restored.db")
	if err := s.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	b := reopen(t, dst, nil)
	got, err := b.Message(ctx, fx.room.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body.Markdown != "restore me" {
		t.Fatalf("restored %q", got.Body.Markdown)
	}
	acct, err := b.Account(ctx)
	if err != nil || acct.Name != "Acme" {
		t.Fatalf("restored account %v, %v", acct, err)
	}
	found, err := b.Search(ctx, fx.admin.ID, "restore", 10)
	if err != nil || len(found) != 1 {
		t.Fatalf("search in the restored store: %v, %v", found, err)
	}
}
