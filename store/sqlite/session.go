package sqlite

import (
	"context"
	"time"

	"github.com/opencampfire/campfire"
)

// CreateSession stores sess. A zero CreatedAt means now, and a zero
// LastActiveAt means CreatedAt.
func (s *Store) CreateSession(ctx context.Context, sess campfire.Session) error {
	created := sess.CreatedAt
	if created.IsZero() {
		created = s.stamp()
	}
	active := sess.LastActiveAt
	if active.IsZero() {
		active = created
	}
	return s.write(ctx, func(tx *conn) error {
		// Inserting only when the user exists makes "no such user" a row
		// count rather than a foreign-key error.
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, user_agent, ip, created_at, last_active_at)
			SELECT ?, id, ?, ?, ?, ? FROM users WHERE id = ?`,
			sess.TokenHash, sess.UserAgent, sess.IP, created.UnixNano(), active.UnixNano(), sess.UserID)
		return changed(res, err, "user")
	})
}

// Session returns the session with that token hash and its user.
func (s *Store) Session(ctx context.Context, tokenHash []byte) (campfire.Session, campfire.User, error) {
	var row struct {
		userRow
		TokenHash        []byte `db:"token_hash"`
		UserAgent        string `db:"user_agent"`
		IP               string `db:"ip"`
		SessionCreatedAt int64  `db:"session_created_at"`
		LastActiveAt     int64  `db:"last_active_at"`
	}
	err := s.get(ctx, &row, `SELECT `+userColumns+`, s.token_hash, s.user_agent, s.ip,
			s.created_at AS session_created_at, s.last_active_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ?`, tokenHash)
	if err != nil {
		return campfire.Session{}, campfire.User{}, notFound(err, "session")
	}
	sess := campfire.Session{
		TokenHash: row.TokenHash, UserID: row.ID, UserAgent: row.UserAgent, IP: row.IP,
		CreatedAt: fromNanos(row.SessionCreatedAt), LastActiveAt: fromNanos(row.LastActiveAt),
	}
	return sess, row.user(), nil
}

// TouchSession sets the session's LastActiveAt.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	return s.write(ctx, func(tx *conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET last_active_at = ? WHERE token_hash = ?`, at.UnixNano(), tokenHash)
		return changed(res, err, "session")
	})
}

// DeleteUserSessions removes the user's sessions but keep.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep []byte) ([][]byte, error) {
	var removed [][]byte
	err := s.write(ctx, func(tx *conn) error {
		return tx.SelectContext(ctx, &removed, `DELETE FROM sessions
			WHERE user_id = ? AND token_hash IS NOT ? RETURNING token_hash`, userID, keep)
	})
	return removed, err
}

// DeleteSession removes the session, if there is one.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return s.write(ctx, func(tx *conn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
}
