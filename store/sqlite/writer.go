package sqlite

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/opencampfire/campfire"
)

// Writes go through one goroutine that owns the writer connection, in the
// order they arrive. It commits them in groups: every write waiting when a
// transaction begins joins it, and one COMMIT ends them all. Under load a
// group holds about ten writes, so the cost of a commit (the WAL frames of
// the pages it dirtied, most of them the same few pages: the room's row, the
// tails of the messages, events and search indexes) is paid once for them
// all. A write that fails fails alone (see commitGroup).
//
// On one CPU, the writer yields before it gathers a group, so that the
// requests being handled reach the queue: without that, it would find one
// write waiting each time, and commit them one by one.
//
// The queue is first come, first served. database/sql, by contrast, hands a
// busy connection to a random waiter, which made the slowest of many
// concurrent posts wait for seconds.

// maxGroup is the most writes one transaction holds: enough to amortize the
// commit, few enough that the first of them is not kept waiting long.
const maxGroup = 128

type writeReq struct {
	ctx   context.Context
	fn    func(tx *conn) error
	err   error
	panic any // what fn panicked with, raised again in the caller
	stack []byte
	ran   bool // fn has run, in a transaction that may have been rolled back
	done  chan struct{}
}

// write runs fn in a transaction on the writer connection and returns once
// that transaction has committed, or failed. fn shares the transaction with
// other writes; its effects are kept only if it returns nil. fn may run more
// than once (when another write of its group fails), so it must only set
// its results, not add to them. It must not call write itself. Once fn has
// begun, it runs to its end whatever becomes of ctx. Unique-constraint
// violations come out as ErrConflict.
func (s *Store) write(ctx context.Context, fn func(tx *conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.quit:
		return errClosed
	default:
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case s.writes <- req:
	case <-s.stopped:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.done:
	case <-s.stopped:
		// The writer may have answered just before it stopped.
		select {
		case <-req.done:
		default:
			return errClosed
		}
	}
	if req.panic != nil {
		panic(fmt.Sprintf("%v\n\nin the store's writer:\n%s", req.panic, req.stack))
	}
	return conflict(req.err)
}

var errClosed = fmt.Errorf("sqlite: the store is closed: %w", campfire.ErrClosed)

// runWriter is the writer goroutine. It stops once quit is closed, failing
// the writes still queued.
func (s *Store) runWriter() {
	defer close(s.stopped)
	group := make([]*writeReq, 0, maxGroup)
	for {
		// quit first: a write and quit both ready must not go on at
		// random.
		select {
		case <-s.quit:
			s.failQueued()
			return
		default:
		}
		select {
		case req := <-s.writes:
			group = append(group[:0], req)
		case <-s.quit:
			s.failQueued()
			return
		}
		runtime.Gosched()
	gather:
		for len(group) < maxGroup {
			select {
			case req := <-s.writes:
				group = append(group, req)
			default:
				break gather
			}
		}
		s.commitGroup(group)
		for _, req := range group {
			close(req.done)
		}
		clear(group)
	}
}

func (s *Store) failQueued() {
	for {
		select {
		case req := <-s.writes:
			req.err = errClosed
			close(req.done)
		default:
			return
		}
	}
}

// commitGroup runs the group's writes in one transaction and sets each
// one's outcome. The writes run back to back, without a savepoint each,
// which would cost two statements per write on every group. If one fails,
// the transaction is rolled back, that write keeps its error, and the
// others run again in a new transaction, each in a savepoint this time, so
// that a group costs at most two transactions whatever fails. Each of them
// ran before the one that failed, or had not run yet, so it sees again what
// it saw.
func (s *Store) commitGroup(group []*writeReq) {
	if again := s.runGroup(group, false); len(again) > 0 {
		s.runGroup(again, true)
	}
}

// runGroup runs the writes in one transaction. Without savepoints, it stops
// at the first write that fails, rolls back, and returns the others that
// have no outcome yet, to run again. With savepoints, a write that fails is
// rolled back alone, and the others commit.
func (s *Store) runGroup(group []*writeReq, savepoints bool) (again []*writeReq) {
	ctx := context.Background()
	w := s.wc
	if _, err := w.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		failAll(group, err)
		return nil
	}
	// endTx ends a transaction that cannot commit. A failed statement can
	// end it itself (SQLite does so on a full disk or an I/O error): then
	// ROLLBACK has nothing to end, and fails, which changes nothing.
	endTx := func(err error) {
		w.forgetAtCommit(0)
		w.ExecContext(ctx, `ROLLBACK`)
		failAll(group, err)
	}
	for _, req := range group {
		// Only a write that has not run yet may be given up on: one that
		// ran in the first transaction runs again, or a write after it
		// that saw its effects would keep an outcome from a state that
		// never was.
		if err := req.ctx.Err(); err != nil && !req.ran {
			req.err = err
			continue
		}
		req.ran = true
		mark := len(w.atCommit)
		if !savepoints {
			if s.runWrite(req) {
				continue
			}
			w.forgetAtCommit(0)
			w.ExecContext(ctx, `ROLLBACK`)
			for _, other := range group {
				if other != req && other.err == nil && other.panic == nil {
					again = append(again, other)
				}
			}
			return again
		}
		if _, err := w.ExecContext(ctx, `SAVEPOINT w`); err != nil {
			endTx(err)
			return nil
		}
		if !s.runWrite(req) {
			w.forgetAtCommit(mark)
			if _, err := w.ExecContext(ctx, `ROLLBACK TO w`); err != nil {
				endTx(err)
				return nil
			}
		}
		if _, err := w.ExecContext(ctx, `RELEASE w`); err != nil {
			endTx(err)
			return nil
		}
	}
	if err := w.runAtCommit(ctx); err != nil {
		endTx(err)
		return nil
	}
	if _, err := w.ExecContext(ctx, `COMMIT`); err != nil {
		endTx(err)
		return nil
	}
	return nil
}

// failAll fails, with err, the writes that have no outcome of their own.
func failAll(group []*writeReq, err error) {
	for _, req := range group {
		if req.err == nil && req.panic == nil {
			req.err = err
		}
	}
}

// runWrite calls req.fn, turning a panic into an outcome that the caller
// raises again; the writer goes on.
func (s *Store) runWrite(req *writeReq) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			req.err, req.panic, req.stack = nil, p, debug.Stack()
			ok = false
		}
	}()
	req.err = req.fn(s.wc)
	return req.err == nil
}
