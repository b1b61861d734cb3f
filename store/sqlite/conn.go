package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
)

// maxStatements is how many prepared statements a connection keeps. The
// store's queries are a fixed set of about a hundred texts; the cap only
// bounds a caller that would build texts without end.
const maxStatements = 512

// conn is one connection, held for the store's life, with the statements it
// has prepared, by their text. Parsing SQL is a fifth of the CPU of a post
// when every call prepares its statement afresh; a held statement is
// parsed once.
//
// A conn is used by one goroutine at a time: the writer's by the writer
// goroutine, a reader's by whoever took it from the pool. Transactions are
// begun and ended with statements of their own (BEGIN, COMMIT), so that
// every query of a transaction runs on the held statements.
type conn struct {
	c     *sqlx.Conn
	stmts map[string]*sqlx.Stmt
	// detached: statements ignore their callers' cancellation. The writer
	// is detached, so that a group that has begun is carried through, and
	// so are most reads (see Store.read). A statement with a cancellable
	// context costs a goroutine in the driver, and another in database/sql
	// for its rows.
	detached bool
	// atCommit are the statements execAtCommit put off, in order.
	atCommit []laterExec
}

type laterExec struct {
	query string
	args  []any
}

func newConn(ctx context.Context, db *sqlx.DB, detached bool) (*conn, error) {
	c, err := db.Connx(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, stmts: make(map[string]*sqlx.Stmt), detached: detached}, nil
}

// stmt returns the connection's statement for query, preparing it on first
// use.
func (c *conn) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.c.PreparexContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil, err
	}
	if len(c.stmts) >= maxStatements {
		// Full: forget the lot rather than track use; the fixed set
		// prepares itself again in a few calls.
		c.closeStmts()
	}
	c.stmts[query] = st
	return st, nil
}

func (c *conn) ctx(ctx context.Context) context.Context {
	if c.detached && ctx.Done() != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// ExecContext runs a statement that returns no rows.
func (c *conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(c.ctx(ctx), args...)
}

// execAtCommit puts a statement on the search index off until the writer
// commits the transaction, after every write of the group: the writer's
// connection only. FTS5 writes the terms pending in memory out as a new
// segment at every statement savepoint, and a statement with a foreign key
// check or RETURNING opens one; between such statements, every message was
// a segment of its own, each soon merged again: a fifth of a post's cost.
// Put together at the end, the group's messages make one segment. The
// statements keep their order, and nothing the writes read depends on them
// (only searches read the index).
func (c *conn) execAtCommit(query string, args ...any) {
	c.atCommit = append(c.atCommit, laterExec{query, args})
}

// runAtCommit runs the statements put off, and forgets them.
func (c *conn) runAtCommit(ctx context.Context) error {
	defer c.forgetAtCommit(0)
	for _, l := range c.atCommit {
		if _, err := c.ExecContext(ctx, l.query, l.args...); err != nil {
			return err
		}
	}
	return nil
}

// forgetAtCommit drops the statements put off since the first n.
func (c *conn) forgetAtCommit(n int) {
	clear(c.atCommit[n:])
	c.atCommit = c.atCommit[:n]
}

// QueryContext, QueryxContext and QueryRowxContext make a conn an
// sqlx.QueryerContext, for sqlx.GetContext and sqlx.SelectContext.
func (c *conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(c.ctx(ctx), args...)
}

func (c *conn) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryxContext(c.ctx(ctx), args...)
}

func (c *conn) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		// A Row holding err: the way sqlx reports a failed query.
		return c.c.QueryRowxContext(ctx, query, args...)
	}
	return st.QueryRowxContext(c.ctx(ctx), args...)
}

// GetContext scans the single row query returns into dest, or returns
// sql.ErrNoRows.
func (c *conn) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, c, dest, query, args...)
}

// SelectContext scans every row query returns into the slice dest.
func (c *conn) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, c, dest, query, args...)
}

func (c *conn) closeStmts() error {
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// close closes the statements and hands the connection back to its pool,
// which, the pool being closed, closes it.
func (c *conn) close() error {
	return errors.Join(c.closeStmts(), c.c.Close())
}

// pool holds the readers.
type pool struct {
	conns chan *conn
	all   []*conn
}

func newPool(ctx context.Context, db *sqlx.DB, n int) (*pool, error) {
	p := &pool{conns: make(chan *conn, n)}
	for range n {
		c, err := newConn(ctx, db, false)
		if err != nil {
			p.close()
			return nil, err
		}
		p.all = append(p.all, c)
		p.conns <- c
	}
	return p, nil
}

// take waits for a free reader, or for ctx to end.
func (p *pool) take(ctx context.Context) (*conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	default:
	}
	select {
	case c := <-p.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pool) put(c *conn) { p.conns <- c }

// close waits for every reader to be handed back, then closes them.
func (p *pool) close() error {
	var errs []error
	for range p.all {
		c := <-p.conns
		errs = append(errs, c.close())
	}
	p.all = nil
	return errors.Join(errs...)
}
