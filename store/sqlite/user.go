package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/opencampfire/campfire"
)

const userColumns = `u.id, u.name, u.email, u.role, u.status, u.bio, u.external_id, u.webhook_url, u.created_at`

type userRow struct {
	ID         int64               `db:"id"`
	Name       string              `db:"name"`
	Email      string              `db:"email"`
	Role       campfire.Role       `db:"role"`
	Status     campfire.UserStatus `db:"status"`
	Bio        string              `db:"bio"`
	ExternalID string              `db:"external_id"`
	WebhookURL string              `db:"webhook_url"`
	CreatedAt  int64               `db:"created_at"`
}

func (r userRow) user() campfire.User {
	return campfire.User{
		ID: r.ID, Name: r.Name, Email: r.Email, Role: r.Role, Status: r.Status,
		Bio: r.Bio, ExternalID: r.ExternalID, WebhookURL: r.WebhookURL, CreatedAt: fromNanos(r.CreatedAt),
	}
}

// nameKey is what users are searched and ordered by: Go lowercases all of
// Unicode, where SQLite's lower() and NOCASE know only ASCII.
func nameKey(name string) string { return strings.ToLower(name) }

// CreateUser creates an active user, a member of every open room.
func (s *Store) CreateUser(ctx context.Context, u campfire.NewUser) (campfire.User, error) {
	var user campfire.User
	err := s.write(ctx, func(tx *conn) (err error) {
		user, err = createUser(ctx, tx, u, s.stamp())
		return err
	})
	return user, err
}

func createUser(ctx context.Context, tx *conn, u campfire.NewUser, now time.Time) (campfire.User, error) {
	if !u.Role.Valid() {
		return campfire.User{}, fmt.Errorf("%w: unknown role %q", campfire.ErrInvalid, u.Role)
	}
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO users (name, name_key, email, external_id, role, status, password_hash, bot_key_hash, webhook_url, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Name, nameKey(u.Name), strings.ToLower(u.Email), u.ExternalID, u.Role, campfire.StatusActive, u.PasswordHash,
		keyHash(u.BotKeyHash), u.WebhookURL, now.UnixNano())
	if err != nil {
		return campfire.User{}, err
	}
	if err := joinOpenRooms(ctx, tx, id, now); err != nil {
		return campfire.User{}, err
	}
	return getUser(ctx, tx, `u.id = ?`, id)
}

// joinOpenRooms makes the user a member of every open room they are not in.
func joinOpenRooms(ctx context.Context, tx *conn, userID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO memberships (room_id, user_id, involvement, created_at)
		SELECT id, ?, ?, ? FROM rooms WHERE kind = 'open' AND deleted_at IS NULL
		ON CONFLICT DO NOTHING`, userID, campfire.DefaultInvolvement(campfire.RoomOpen), now.UnixNano())
	return err
}

// leaveSharedRooms ends a deactivated user's sessions and memberships of
// open and closed rooms; direct rooms keep them, as in Campfire. Every
// live room they were in, direct ones too, records in its log that their
// access ended, so that no stream of theirs goes on past it.
func leaveSharedRooms(ctx context.Context, tx *conn, userID int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return err
	}
	var rooms []int64
	if err := tx.SelectContext(ctx, &rooms, `SELECT m.room_id FROM memberships m JOIN rooms r ON r.id = m.room_id
		WHERE m.user_id = ? AND r.deleted_at IS NULL ORDER BY m.room_id`, userID); err != nil {
		return err
	}
	for _, roomID := range rooms {
		if _, err := appendMembersRemoved(ctx, tx, roomID, []int64{userID}, now); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ?
		AND room_id IN (SELECT id FROM rooms WHERE kind <> 'direct')`, userID)
	return err
}

// User returns the user with id.
func (s *Store) User(ctx context.Context, id int64) (campfire.User, error) {
	return readOne(ctx, s, func(c *conn) (campfire.User, error) { return getUser(ctx, c, `u.id = ?`, id) })
}

// UserByEmail returns the user with that email and their password hash.
func (s *Store) UserByEmail(ctx context.Context, email string) (campfire.User, string, error) {
	var row struct {
		userRow
		PasswordHash string `db:"password_hash"`
	}
	err := s.get(ctx, &row, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = ? AND u.email <> ''`,
		strings.ToLower(email))
	if err != nil {
		return campfire.User{}, "", notFound(err, "user")
	}
	return row.user(), row.PasswordHash, nil
}

// UserByExternalID returns the user the host knows by externalID.
func (s *Store) UserByExternalID(ctx context.Context, externalID string) (campfire.User, error) {
	return readOne(ctx, s, func(c *conn) (campfire.User, error) {
		return getUser(ctx, c, `u.external_id = ? AND u.external_id <> ''`, externalID)
	})
}

func getUser(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (campfire.User, error) {
	var row userRow
	if err := sqlx.GetContext(ctx, q, &row, `SELECT `+userColumns+` FROM users u WHERE `+where, args...); err != nil {
		return campfire.User{}, notFound(err, "user")
	}
	return row.user(), nil
}

// UpdateUser changes the non-nil fields of u. A change of status carries
// its side effects in the same transaction: deactivation ends the user's
// sessions and their place in open and closed rooms; activation puts them
// back in every open room.
func (s *Store) UpdateUser(ctx context.Context, id int64, u campfire.UserUpdate) (campfire.User, error) {
	if u.Role != nil && !u.Role.Valid() {
		return campfire.User{}, fmt.Errorf("%w: unknown role %q", campfire.ErrInvalid, *u.Role)
	}
	if u.Status != nil && !u.Status.Valid() {
		return campfire.User{}, fmt.Errorf("%w: unknown status %q", campfire.ErrInvalid, *u.Status)
	}
	var key, email *string
	if u.Name != nil {
		k := nameKey(*u.Name)
		key = &k
	}
	if u.Email != nil {
		e := strings.ToLower(*u.Email)
		email = &e
	}
	// A bot key hash may be set to none (NULL), so it cannot use coalesce.
	setKey, botKey := u.BotKeyHash != nil, []byte(nil)
	if setKey {
		botKey = keyHash(*u.BotKeyHash)
	}
	var user campfire.User
	err := s.write(ctx, func(tx *conn) error {
		var was campfire.UserStatus
		if u.Status != nil {
			if err := tx.GetContext(ctx, &was, `SELECT status FROM users WHERE id = ?`, id); err != nil {
				return notFound(err, "user")
			}
		}
		// A nil pointer binds as NULL, which coalesce turns into "unchanged".
		res, err := tx.ExecContext(ctx, `UPDATE users SET
				name = coalesce(?, name), name_key = coalesce(?, name_key), email = coalesce(?, email),
				bio = coalesce(?, bio), password_hash = coalesce(?, password_hash),
				role = coalesce(?, role), status = coalesce(?, status),
				bot_key_hash = CASE WHEN ? THEN ? ELSE bot_key_hash END, webhook_url = coalesce(?, webhook_url)
			WHERE id = ?`,
			u.Name, key, email, u.Bio, u.PasswordHash, u.Role, u.Status, setKey, botKey, u.WebhookURL, id)
		if err := changed(res, err, "user"); err != nil {
			return err
		}
		switch {
		case u.Status == nil:
		case *u.Status == campfire.StatusActive:
			err = joinOpenRooms(ctx, tx, id, s.stamp())
		case was == campfire.StatusActive:
			err = leaveSharedRooms(ctx, tx, id, s.stamp())
		}
		if err != nil {
			return err
		}
		user, err = getUser(ctx, tx, `u.id = ?`, id)
		return err
	})
	return user, err
}

// keyHash is how a bot key hash is stored: NULL when there is none.
func keyHash(h []byte) []byte {
	if len(h) == 0 {
		return nil
	}
	return h
}

// BotKey returns the bot and its key hash.
func (s *Store) BotKey(ctx context.Context, userID int64) (campfire.User, []byte, error) {
	var row struct {
		userRow
		BotKeyHash []byte `db:"bot_key_hash"`
	}
	err := s.get(ctx, &row, `SELECT `+userColumns+`, u.bot_key_hash FROM users u WHERE u.id = ? AND u.role = ?`,
		userID, campfire.RoleBot)
	if err != nil {
		return campfire.User{}, nil, notFound(err, "bot")
	}
	return row.user(), row.BotKeyHash, nil
}

// Users lists users by name, case-insensitively, then id.
func (s *Store) Users(ctx context.Context, q campfire.UserQuery) ([]campfire.User, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var rows []userRow
	err := s.selectAll(ctx, &rows, `SELECT `+userColumns+` FROM users u
		WHERE (:query = '' OR instr(u.name_key, :query) > 0)
			AND (:room = 0 OR u.id IN (SELECT user_id FROM memberships WHERE room_id = :room))
			AND (NOT :active OR u.status = 'active')
		ORDER BY u.name_key, u.id
		LIMIT :limit`,
		sql.Named("query", nameKey(q.Query)), sql.Named("room", q.RoomID),
		sql.Named("active", q.ActiveOnly), sql.Named("limit", limit))
	if err != nil {
		return nil, err
	}
	users := make([]campfire.User, len(rows))
	for i, r := range rows {
		users[i] = r.user()
	}
	return users, nil
}
