// Package sqlite is the default [campfire.Store]: one SQLite file in WAL
// mode, through modernc.org/sqlite (pure Go, no cgo).
//
// Every write goes through a single connection, one transaction at a time,
// so room sequence numbers are assigned in commit order without gaps. Reads
// go through a separate pool of read-only connections, which WAL lets run
// while the writer commits.
//
// The path must name a file: ":memory:" is refused, because the writer and
// the readers are separate connections that must see the same database.
// Tests open a file in t.TempDir().
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/opencampfire/campfire"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ campfire.Store = (*Store)(nil)

// Options tune a Store. The zero value, or nil, is the documented default
// of each field.
type Options struct {
	// Now is the clock that stamps created and updated times. Nil means
	// time.Now.
	Now func() time.Time
	// Synchronous is SQLite's synchronous setting, case-insensitive: what
	// an acknowledged commit survives. Empty means "NORMAL".
	//
	// "NORMAL": a crash of the process (a panic, SIGKILL, the OOM killer).
	// A commit is in the WAL file, in the operating system's hands, when it
	// is acknowledged, but the WAL is synced to the disk only when it is
	// copied back into the database (every 8,000 pages). A power loss or a
	// crash of the operating system rolls back the commits made since then
	// that the kernel had not yet written back on its own: up to about the
	// last 30 s of them on Linux's defaults. The file itself stays sound.
	//
	// "FULL": a power loss and a crash of the operating system too, on a
	// disk that keeps what it has fsynced: the WAL is synced before every
	// commit is acknowledged, one fsync for each group of writes the writer
	// commits together. BENCHMARKS.md measures what that costs.
	//
	// SQLite's "EXTRA" is FULL in WAL mode; "OFF" never syncs, so a power
	// loss can also corrupt the file.
	Synchronous string
	// Readers is the number of read-only connections. Zero means 4.
	Readers int
	// Logger receives a note for each migration applied. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Store is a campfire.Store in one SQLite file. It is safe for concurrent use.
type Store struct {
	w       *sqlx.DB // the writer's database handle: one connection
	r       *sqlx.DB // the readers' database handle
	wc      *conn    // the writer connection, which only runWriter uses
	readers *pool    // the read-only connections
	now     func() time.Time
	sync    string // the synchronous setting of every connection

	writes  chan *writeReq // to runWriter
	quit    chan struct{}  // closed by Close: runWriter stops
	stopped chan struct{}  // closed by runWriter as it returns

	closeOnce sync.Once
	closeErr  error
}

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// that another process holds on the file before giving up.
const busyTimeout = 5000

// Open opens or creates the database at path and applies the migrations it
// lacks. It checks that every connection setting took, and fails otherwise,
// rather than run without WAL or foreign keys.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: %q is not a file path; the store needs a file that its connections share", path)
	}
	synchronous := cmp.Or(strings.ToUpper(opts.Synchronous), "NORMAL")
	// The index of a setting is the number PRAGMA synchronous reads back.
	level := slices.Index([]string{"OFF", "NORMAL", "FULL", "EXTRA"}, synchronous)
	if level < 0 {
		return nil, fmt.Errorf("sqlite: unknown Synchronous %q", opts.Synchronous)
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	s := &Store{
		now:     opts.Now,
		sync:    synchronous,
		writes:  make(chan *writeReq, maxGroup),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}

	var err error
	if s.w, err = sqlx.Open("sqlite", dsn(path, synchronous, false)); err != nil {
		return nil, err
	}
	// One connection, kept for the store's life: writes queue for it, which
	// is what makes the sequence numbers gap-free.
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if s.r, err = sqlx.Open("sqlite", dsn(path, synchronous, true)); err != nil {
		s.w.Close()
		return nil, err
	}
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)

	// The writer goes first: it turns a new file to WAL, which a read-only
	// connection cannot do.
	err = checkPragmas(ctx, s.w, level, false)
	if err == nil {
		s.wc, err = newConn(ctx, s.w, true)
	}
	if err != nil {
		close(s.stopped)
		s.Close()
		return nil, err
	}
	go s.runWriter()
	err = s.migrate(ctx, logger)
	if err == nil {
		err = checkPragmas(ctx, s.r, level, true)
	}
	if err == nil {
		s.readers, err = newPool(ctx, s.r, readers)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dsn is the data source name of path's writer or readers. The settings go
// in the DSN so that every connection the pool opens gets them, not only the
// first. The writer begins its transactions IMMEDIATE, taking the write lock
// at once, so that a transaction that read first never fails to upgrade when
// another process holds the file.
func dsn(path, synchronous string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeout)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	// Deleted content is overwritten with zeros, not left in free space:
	// people delete messages because they pasted a secret.
	q.Add("_pragma", "secure_delete(1)")
	// Statement journals and sorts in memory, not in temporary files.
	q.Add("_pragma", "temp_store(MEMORY)")
	// The writer copies the WAL back into the database once it holds
	// 8,000 pages (32 MiB) rather than SQLite's 1,000: the hot pages (the
	// room rows, the tails of the tables and indexes) are copied once for
	// eight times as many commits. A copy run beside the writer, on a
	// connection of its own, measured slower on one CPU.
	q.Add("_pragma", "wal_autocheckpoint(8000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// A "file:" URI, so that the driver passes it whole to SQLite; the
	// characters that would end or escape its path are escaped.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + q.Encode()
}

// Synchronous is the synchronous setting that every connection runs with
// ("NORMAL", "FULL", ...), as Open read it back: what an acknowledged
// commit survives (see [Options.Synchronous]).
func (s *Store) Synchronous() string { return s.sync }

// checkPragmas reads the settings back: a pragma SQLite does not accept, or
// that a read-only file refuses, fails silently otherwise.
func checkPragmas(ctx context.Context, db *sqlx.DB, synchronous int, readOnly bool) error {
	queryOnly := "0"
	if readOnly {
		queryOnly = "1"
	}
	want := []struct{ pragma, value string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", strconv.Itoa(synchronous)},
		{"busy_timeout", strconv.Itoa(busyTimeout)},
		{"secure_delete", "1"},
		{"query_only", queryOnly},
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	defer conn.Close()
	for _, p := range want {
		var got string
		if err := conn.GetContext(ctx, &got, "PRAGMA "+p.pragma); err != nil {
			return fmt.Errorf("sqlite: read PRAGMA %s: %w", p.pragma, err)
		}
		if !strings.EqualFold(got, p.value) {
			return fmt.Errorf("sqlite: PRAGMA %s is %q, want %q", p.pragma, got, p.value)
		}
	}
	return nil
}

// Close finishes the writes in progress, fails those still queued, waits
// for the reads in progress, and closes every connection. Calls after the
// first return what the first returned.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	close(s.quit)
	<-s.stopped
	var errs []error
	if s.readers != nil {
		errs = append(errs, s.readers.close())
	}
	if s.wc != nil {
		errs = append(errs, s.wc.close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// read runs fn in a read transaction on one of the readers, so that its
// queries see one snapshot even while the writer commits. Its statements
// run to their end whatever becomes of ctx: the store's reads are index
// lookups of bounded size, and a cancellable statement costs two goroutines
// (one in the driver, one in database/sql for its rows).
func (s *Store) read(ctx context.Context, fn func(tx *conn) error) error {
	return s.readTx(ctx, false, fn)
}

// readLong is read for a query whose cost the caller cannot bound (a
// search): it ends early, with ctx.Err(), once ctx is done.
func (s *Store) readLong(ctx context.Context, fn func(tx *conn) error) error {
	return s.readTx(ctx, true, fn)
}

func (s *Store) readTx(ctx context.Context, cancellable bool, fn func(tx *conn) error) (err error) {
	c, err := s.readers.take(ctx)
	if err != nil {
		return err
	}
	defer s.readers.put(c)
	c.detached = !cancellable
	// Never cancellable: the driver reports a statement whose context
	// ended as failed even when it ran, and a BEGIN that ran unseen would
	// leave the reader in a transaction, reading an old snapshot from then
	// on.
	if _, err := c.ExecContext(context.WithoutCancel(ctx), `BEGIN`); err != nil {
		return err
	}
	defer func() {
		// COMMIT and ROLLBACK are the same to a transaction that wrote
		// nothing; ROLLBACK also ends one whose statement failed halfway.
		if _, rerr := c.ExecContext(context.Background(), `ROLLBACK`); err == nil {
			err = rerr
		}
	}()
	return fn(c)
}

// readOne runs fn on a reader, outside any transaction: for what one
// statement reads.
func readOne[T any](ctx context.Context, s *Store, fn func(c *conn) (T, error)) (T, error) {
	c, err := s.readers.take(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer s.readers.put(c)
	c.detached = true // as for read
	return fn(c)
}

// get runs one query on a reader, outside any transaction, and scans its one
// row into dest, or returns sql.ErrNoRows.
func (s *Store) get(ctx context.Context, dest any, query string, args ...any) error {
	_, err := readOne(ctx, s, func(c *conn) (struct{}, error) {
		return struct{}{}, c.GetContext(ctx, dest, query, args...)
	})
	return err
}

// selectAll runs one query on a reader, outside any transaction, and scans
// its rows into the slice dest.
func (s *Store) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	_, err := readOne(ctx, s, func(c *conn) (struct{}, error) {
		return struct{}{}, c.SelectContext(ctx, dest, query, args...)
	})
	return err
}

// conflict translates a unique-constraint violation into ErrConflict, keeping
// SQLite's message, which names the columns.
func conflict(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", campfire.ErrConflict, se.Error())
		}
	}
	return err
}

// notFound names what a query that found no row was looking for.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return campfire.NotFound(what)
	}
	return err
}

// changed returns NotFound(what) when the statement touched no row.
func changed(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = campfire.NotFound(what)
	}
	return err
}

// stamp is the store's clock reading as it will read back: UTC, whole
// nanoseconds, without the monotonic reading.
func (s *Store) stamp() time.Time { return stored(s.now()) }

func stored(t time.Time) time.Time { return fromNanos(t.UnixNano()) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// nullTime reads a nullable time column.
func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// idList encodes ids as a JSON array for json_each, which lets one statement
// take a list of any length; nil becomes [] rather than null.
func idList(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}
