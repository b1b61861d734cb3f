package sqlite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencampfire/campfire"
)

// The writer's tests hold it inside a write of their own, queue writes
// behind it, and let it go: every write queued meanwhile then joins one
// group, in the order queued. The timeouts only turn a hang into a failure.
const hang = 10 * time.Second

var bg = context.Background()

// openWriterStore opens a store at path with a table t of keyed rows and a
// one-row counter, for writes to fill.
func openWriterStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(bg, path, &Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.write(bg, func(tx *conn) error {
		_, err := tx.ExecContext(bg, `CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER);
			CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL);
			INSERT INTO counter SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM counter)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func insertRow(tx *conn, k string, v int64) error {
	_, err := tx.ExecContext(bg, `INSERT INTO t (k, v) VALUES (?, ?)`, k, v)
	return err
}

// ins is a write that inserts keys, each with 1, then returns then: with
// then set, it fails with an effect already made, for the rollback to undo.
func ins(then error, keys ...string) func(*conn) error {
	return func(tx *conn) error {
		for _, k := range keys {
			if err := insertRow(tx, k, 1); err != nil {
				return err
			}
		}
		return then
	}
}

// bumpCounter numbers writes the way the store numbers a room's events:
// the numbers are gap-free only if the increments of failed writes are
// undone.
func bumpCounter(tx *conn) (n int64, err error) {
	err = tx.GetContext(bg, &n, `UPDATE counter SET n = n + 1 RETURNING n`)
	return n, err
}

// checkRows reads t through a reader, as any caller of the store would.
func checkRows(t *testing.T, s *Store, want map[string]int64) {
	t.Helper()
	var all []struct {
		K string `db:"k"`
		V int64  `db:"v"`
	}
	if err := s.selectAll(bg, &all, `SELECT k, v FROM t`); err != nil {
		t.Fatal(err)
	}
	got := make(map[string]int64, len(all))
	for _, r := range all {
		got[r.K] = r.V
	}
	if !maps.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hang); !cond(); time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// outcome is what a write returned, or what it panicked with.
type outcome struct {
	err   error
	panic any
}

func call(s *Store, ctx context.Context, fn func(*conn) error) (o outcome) {
	defer func() { o.panic = recover() }()
	o.err = s.write(ctx, fn)
	return o
}

func start(s *Store, ctx context.Context, fn func(*conn) error) <-chan outcome {
	out := make(chan outcome, 1)
	go func() { out <- call(s, ctx, fn) }()
	return out
}

// enqueue starts a write and returns once it is in the queue: writes
// enqueued one after the other, behind a blocked writer, keep that order
// in their group.
func enqueue(t *testing.T, s *Store, ctx context.Context, fn func(*conn) error) <-chan outcome {
	t.Helper()
	n := len(s.writes)
	out := start(s, ctx, fn)
	waitFor(t, "a write to be queued", func() bool { return len(s.writes) > n })
	return out
}

func await(t *testing.T, c <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-c:
		return o
	case <-time.After(hang):
		t.Fatal("a write never returned")
		return outcome{}
	}
}

func wantOK(t *testing.T, name string, c <-chan outcome) {
	t.Helper()
	if o := await(t, c); o.err != nil || o.panic != nil {
		t.Errorf("%s: err %v, panic %v", name, o.err, o.panic)
	}
}

// blockWriter holds the writer inside a write, alone in its group, until
// release; that write then inserts "blocker" and must succeed. A test that
// fails first still lets it go, or closing the store would hang.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	var once, unblockOnce sync.Once
	out := start(s, bg, func(tx *conn) error {
		once.Do(func() { close(started) })
		<-unblock
		return insertRow(tx, "blocker", 0)
	})
	t.Cleanup(func() { unblockOnce.Do(func() { close(unblock) }) })
	select {
	case <-started:
	case <-time.After(hang):
		t.Fatal("the writer never ran the blocking write")
	}
	return func() {
		unblockOnce.Do(func() { close(unblock) })
		wantOK(t, "blocking write", out)
	}
}

// One group of writes, some failing with an effect already made: each
// caller gets its own outcome, and only the effects of the writes that
// succeeded are committed, once each. The run counts follow from the order:
// the first failure rolls the group back, and the second transaction runs
// every other write once more, each in a savepoint, whatever else fails;
// they also show that the writes shared one group.
func TestWriteGroupIsolatesFailures(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	errF1, errF5 := errors.New("f1 failed"), errors.New("f5 failed")
	steps := []struct {
		fn   func(*conn) error
		runs int32
		want error // nil, or what the error must match
	}{
		{ins(nil, "a"), 2, nil},
		{ins(errF1, "f1"), 1, errF1},
		{ins(nil, "b"), 1, nil},
		// Conflicts with a, not yet committed, in the same transaction.
		{ins(nil, "c3", "a"), 1, campfire.ErrConflict},
		{ins(nil, "c"), 1, nil},
		{ins(errF5, "f5"), 1, errF5},
		{ins(nil, "d"), 1, nil},
	}
	release := blockWriter(t, s)
	runs := make([]atomic.Int32, len(steps))
	outs := make([]<-chan outcome, len(steps))
	for i, st := range steps {
		outs[i] = enqueue(t, s, bg, func(tx *conn) error { runs[i].Add(1); return st.fn(tx) })
	}
	release()
	for i, st := range steps {
		o := await(t, outs[i])
		if o.panic != nil || (st.want == nil) != (o.err == nil) || !errors.Is(o.err, st.want) {
			t.Errorf("write %d: err %v, panic %v; want %v", i, o.err, o.panic, st.want)
		}
		if got := runs[i].Load(); got != st.runs {
			t.Errorf("write %d ran %d times, want %d", i, got, st.runs)
		}
	}
	checkRows(t, s, map[string]int64{"blocker": 0, "a": 1, "b": 1, "c": 1, "d": 1})
}

// A write that runs again sees again what it saw, and what it did the first
// time is undone: a second INSERT of its key would conflict, and a second
// increment would leave a gap.
func TestWriteRunAgainCommitsOnce(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	release := blockWriter(t, s)
	var seen [][2]int64 // rows in t, and seq, at each run
	a := enqueue(t, s, bg, func(tx *conn) error {
		var n int64
		if err := tx.GetContext(bg, &n, `SELECT count(*) FROM t`); err != nil {
			return err
		}
		seq, err := bumpCounter(tx)
		if err != nil {
			return err
		}
		seen = append(seen, [2]int64{n, seq})
		return insertRow(tx, "a", seq)
	})
	errB := errors.New("b failed")
	b := enqueue(t, s, bg, func(tx *conn) error {
		bumpCounter(tx)
		return errB
	})
	release()
	wantOK(t, "a", a)
	if o := await(t, b); !errors.Is(o.err, errB) {
		t.Errorf("b: err %v, panic %v; want %v", o.err, o.panic, errB)
	}
	if want := [][2]int64{{1, 1}, {1, 1}}; !slices.Equal(seen, want) {
		t.Errorf("a saw (rows, seq) %v, want %v: two runs, alike", seen, want)
	}
	var n int64
	if err := s.get(bg, &n, `SELECT n FROM counter`); err != nil || n != 1 {
		t.Errorf("counter %d (%v), want 1", n, err)
	}
	checkRows(t, s, map[string]int64{"blocker": 0, "a": 1})
}

// A panic fails its own write only: it is raised again in its caller, the
// rest of the group commits, and the writer goes on.
func TestWritePanicInGroup(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	release := blockWriter(t, s)
	a := enqueue(t, s, bg, ins(nil, "a"))
	p := enqueue(t, s, bg, func(tx *conn) error {
		ins(nil, "p")(tx)
		panic("boom-1234")
	})
	b := enqueue(t, s, bg, ins(nil, "b"))
	release()
	wantOK(t, "a", a)
	wantOK(t, "b", b)
	o := await(t, p)
	msg, _ := o.panic.(string)
	if o.err != nil || !strings.Contains(msg, "boom-1234") || !strings.Contains(msg, "in the store's writer") {
		t.Errorf("panicking write: err %v, panic %q", o.err, o.panic)
	}
	wantOK(t, "write after the panic", start(s, bg, ins(nil, "after")))
	checkRows(t, s, map[string]int64{"blocker": 0, "a": 1, "b": 1, "after": 1})
}

// A write given up on while it waits never runs, and does not disturb its
// group; one given up on before it is issued is not even queued, so it
// returns while the writer is busy.
func TestWriteCancelled(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	release := blockWriter(t, s)
	var ran atomic.Bool
	mark := func(tx *conn) error { ran.Store(true); return insertRow(tx, "x", 1) }

	// Again and again: a write that chose at random between queuing and
	// giving up would give up only some of the time.
	done, cancel := context.WithCancel(bg)
	cancel()
	for range 20 {
		if o := await(t, start(s, done, mark)); !errors.Is(o.err, context.Canceled) {
			t.Fatalf("write with a done context: err %v, panic %v; want context.Canceled", o.err, o.panic)
		}
	}
	if n := len(s.writes); n != 0 {
		t.Errorf("%d writes queued, want none", n)
	}

	ctx, cancel := context.WithCancel(bg)
	a := enqueue(t, s, bg, ins(nil, "a"))
	x := enqueue(t, s, ctx, mark)
	b := enqueue(t, s, bg, ins(nil, "b"))
	cancel()
	release()
	if o := await(t, x); !errors.Is(o.err, context.Canceled) {
		t.Errorf("write cancelled while queued: err %v, panic %v; want context.Canceled", o.err, o.panic)
	}
	wantOK(t, "a", a)
	wantOK(t, "b", b)
	if ran.Load() {
		t.Error("a cancelled write ran")
	}
	checkRows(t, s, map[string]int64{"blocker": 0, "a": 1, "b": 1})
}

// Once fn has begun, it runs to its end, and commits, whatever becomes of
// its context: the writer's statements ignore the caller's cancellation.
func TestWriteCancelledAfterBegin(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	ctx, cancel := context.WithCancel(bg)
	wantOK(t, "write", start(s, ctx, func(tx *conn) error {
		cancel()
		_, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ('a', 1)`)
		return err
	}))
	checkRows(t, s, map[string]int64{"a": 1})
}

// Close lets the write in progress finish; each write queued behind it
// either commits or fails with ErrClosed, and none hangs. What the callers
// were told is what the file holds. A few rounds, for the timing of Close
// against the queue varies.
// A write that ran in a group that rolled back runs again even if its
// context ended meanwhile: a write after it saw its effects, and must not
// keep an outcome from a state that never was (here: told "conflict" by a
// row that would never be committed).
func TestWriteCancelledDuringRetry(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	ctxA, cancelA := context.WithCancel(bg)
	defer cancelA()
	release := blockWriter(t, s)
	a := enqueue(t, s, ctxA, ins(nil, "k"))
	b := enqueue(t, s, bg, func(tx *conn) error {
		cancelA()
		return insertRow(tx, "k", 0)
	})
	release()
	wantOK(t, "the write whose context ended after it ran", a)
	if o := await(t, b); !errors.Is(o.err, campfire.ErrConflict) {
		t.Errorf("the conflicting write: err %v, panic %v; want a conflict", o.err, o.panic)
	}
	checkRows(t, s, map[string]int64{"blocker": 0, "k": 1})
}

func TestWriterClose(t *testing.T) {
	for round := range 4 {
		path := filepath.Join(t.TempDir(), fmt.Sprint(round, ".db"))
		s := openWriterStore(t, path)
		release := blockWriter(t, s)
		outs := make([]<-chan outcome, 20)
		for i := range outs {
			outs[i] = enqueue(t, s, bg, ins(nil, fmt.Sprint(i)))
		}
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		waitFor(t, "Close to begin", func() bool {
			select {
			case <-s.quit:
				return true
			default:
				return false
			}
		})
		release()
		want := map[string]int64{"blocker": 0}
		for i, c := range outs {
			switch o := await(t, c); {
			case o.err == nil && o.panic == nil:
				want[fmt.Sprint(i)] = 1
			case !errors.Is(o.err, campfire.ErrClosed):
				t.Errorf("write %d: err %v, panic %v; want nil or ErrClosed", i, o.err, o.panic)
			}
		}
		t.Logf("round %d: %d of %d queued writes committed", round, len(want)-1, len(outs))
		var first error
		select {
		case first = <-closed:
		case <-time.After(hang):
			t.Fatal("Close never returned")
		}
		var ran atomic.Bool
		err := s.write(bg, func(*conn) error { ran.Store(true); return nil })
		if !errors.Is(err, campfire.ErrClosed) || ran.Load() {
			t.Errorf("write after Close: %v (ran: %v), want ErrClosed, not run", err, ran.Load())
		}
		if again := s.Close(); again != first {
			t.Errorf("Close again: %v, then %v", first, again)
		}
		checkRows(t, openWriterStore(t, path), want)
	}
}

// Many writers, some failing in every way: the table holds exactly the
// writes that succeeded, and the numbers they drew are 1 to n, each once,
// rising for each caller, who waits for one write before the next.
func TestWriteConcurrent(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	wantOK(t, "seed", start(s, bg, func(tx *conn) error { return insertRow(tx, "seed", 0) }))
	errFail := errors.New("planned failure")
	var mu sync.Mutex
	want := map[string]int64{"seed": 0}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			var last int64
			for i := range 200 {
				k := fmt.Sprintf("%d-%d", g, i)
				var seq int64
				o := call(s, bg, func(tx *conn) (err error) {
					if seq, err = bumpCounter(tx); err != nil {
						return err
					}
					if err := insertRow(tx, k, seq); err != nil {
						return err
					}
					switch {
					case i%10 == 3:
						return errFail
					case i%10 == 7:
						return insertRow(tx, "seed", seq)
					case i%40 == 21:
						panic(k)
					}
					return nil
				})
				switch {
				case i%10 == 3 && errors.Is(o.err, errFail):
				case i%10 == 7 && errors.Is(o.err, campfire.ErrConflict):
				case i%40 == 21 && o.err == nil && o.panic != nil:
				case o.err != nil || o.panic != nil:
					t.Errorf("write %s: err %v, panic %v", k, o.err, o.panic)
				case seq <= last:
					t.Errorf("write %s drew %d after %d", k, seq, last)
				default:
					last = seq
					mu.Lock()
					want[k] = seq
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	checkRows(t, s, want)
	seqs := slices.Sorted(maps.Values(want))[1:] // without the seed's 0
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("numbers drawn: %d at position %d, want 1 to %d each once", seq, i, len(seqs))
		}
	}
	var n int64
	if err := s.get(bg, &n, `SELECT n FROM counter`); err != nil || n != int64(len(seqs)) {
		t.Errorf("counter %d (%v), want %d", n, err, len(seqs))
	}
}

// A write has committed by the time it returns: any reader sees it at once,
// alone or in a read transaction.
func TestWriteThenRead(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				k := fmt.Sprintf("%d-%d", g, i)
				if err := s.write(bg, func(tx *conn) error { return insertRow(tx, k, int64(i)) }); err != nil {
					t.Error(err)
					return
				}
				var v, n int64
				if err := s.get(bg, &v, `SELECT v FROM t WHERE k = ?`, k); err != nil || v != int64(i) {
					t.Errorf("get %s: %d, %v; want %d", k, v, err, i)
				}
				err := s.read(bg, func(tx *conn) error {
					return tx.GetContext(bg, &n, `SELECT count(*) FROM t WHERE k LIKE ?`, fmt.Sprint(g, "-%"))
				})
				if err != nil || n != int64(i+1) {
					t.Errorf("read after %s: %d rows, %v; want %d", k, n, err, i+1)
				}
			}
		})
	}
	wg.Wait()
}

// The search index's statements, put off to the commit, keep their order
// across the writes of a group, and those of a write that fails are
// dropped with it, in the first transaction and in the retry alike.
func TestWriteAtCommitFollowsTheGroup(t *testing.T) {
	s := openWriterStore(t, filepath.Join(t.TempDir(), "x.db"))
	index := func(query string, args ...any) func(*conn) error {
		return func(tx *conn) error { tx.execAtCommit(query, args...); return nil }
	}
	failAfter := func(fn func(*conn) error) func(*conn) error {
		return func(tx *conn) error { fn(tx); return errors.New("failed after indexing") }
	}
	release := blockWriter(t, s)
	outs := []<-chan outcome{
		enqueue(t, s, bg, index(`INSERT INTO messages_fts (rowid, plain_text) VALUES (1, 'alpha')`)),
		enqueue(t, s, bg, index(`INSERT INTO messages_fts (rowid, plain_text) VALUES (2, 'beta')`)),
		// Fails: the first transaction rolls back; its row must not be indexed.
		enqueue(t, s, bg, failAfter(index(`INSERT INTO messages_fts (rowid, plain_text) VALUES (3, 'gamma')`))),
		enqueue(t, s, bg, func(tx *conn) error {
			tx.execAtCommit(`INSERT INTO messages_fts (messages_fts, rowid, plain_text) VALUES ('delete', 1, 'alpha')`)
			tx.execAtCommit(`INSERT INTO messages_fts (rowid, plain_text) VALUES (1, 'delta')`)
			return nil
		}),
		// Fails in the retry, inside its savepoint.
		enqueue(t, s, bg, failAfter(index(`INSERT INTO messages_fts (messages_fts, rowid, plain_text) VALUES ('delete', 2, 'beta')`))),
		enqueue(t, s, bg, index(`INSERT INTO messages_fts (rowid, plain_text) VALUES (4, 'alpha')`)),
	}
	release()
	for i, out := range outs {
		o := await(t, out)
		if failed := i == 2 || i == 4; failed == (o.err == nil) || o.panic != nil {
			t.Errorf("write %d: err %v, panic %v", i, o.err, o.panic)
		}
	}
	for term, want := range map[string][]int64{"alpha": {4}, "beta": {2}, "gamma": nil, "delta": {1}} {
		var got []int64
		if err := s.selectAll(bg, &got, `SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid`, term); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("rows matching %q: %v, want %v", term, got, want)
		}
	}
	if len(s.wc.atCommit) != 0 {
		t.Errorf("%d statements left for a later commit", len(s.wc.atCommit))
	}
}
