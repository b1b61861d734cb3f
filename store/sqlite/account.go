package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencampfire/campfire"
)

type accountRow struct {
	Name     string `db:"name"`
	JoinCode string `db:"join_code"`
	Settings string `db:"settings"`
}

func (r accountRow) account() (campfire.Account, error) {
	a := campfire.Account{Name: r.Name, JoinCode: r.JoinCode}
	err := json.Unmarshal([]byte(r.Settings), &a.Settings)
	return a, err
}

// Setup creates the account, its admin and its first open room.
func (s *Store) Setup(ctx context.Context, su campfire.Setup) (campfire.Account, campfire.User, campfire.Room, error) {
	var (
		admin campfire.User
		room  campfire.Room
	)
	err := s.write(ctx, func(tx *conn) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM account)`); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: the account is already set up", campfire.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account (id, name, join_code, settings) VALUES (1, ?, ?, '{}')`,
			su.AccountName, su.JoinCode); err != nil {
			return err
		}
		u := su.Admin
		u.Role = campfire.RoleAdmin
		now := s.stamp()
		var err error
		if admin, err = createUser(ctx, tx, u, now); err != nil {
			return err
		}
		room, err = createRoom(ctx, tx, campfire.NewRoom{Kind: campfire.RoomOpen, Name: su.RoomName, CreatorID: admin.ID}, now)
		return err
	})
	if err != nil {
		return campfire.Account{}, campfire.User{}, campfire.Room{}, err
	}
	return campfire.Account{Name: su.AccountName, JoinCode: su.JoinCode}, admin, room, nil
}

// Account returns the account.
func (s *Store) Account(ctx context.Context) (campfire.Account, error) {
	var row accountRow
	if err := s.get(ctx, &row, `SELECT name, join_code, settings FROM account`); err != nil {
		return campfire.Account{}, notFound(err, "account")
	}
	return row.account()
}

// UpdateAccount changes the account's name and settings.
func (s *Store) UpdateAccount(ctx context.Context, name string, settings campfire.AccountSettings) (campfire.Account, error) {
	b, err := json.Marshal(settings)
	if err != nil {
		return campfire.Account{}, err
	}
	var row accountRow
	err = s.write(ctx, func(tx *conn) error {
		return tx.GetContext(ctx, &row, `UPDATE account SET name = ?, settings = ? RETURNING name, join_code, settings`, name, string(b))
	})
	if err != nil {
		return campfire.Account{}, notFound(err, "account")
	}
	return row.account()
}

// SetJoinCode replaces the join code.
func (s *Store) SetJoinCode(ctx context.Context, code string) error {
	return s.write(ctx, func(tx *conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE account SET join_code = ?`, code)
		return changed(res, err, "account")
	})
}
