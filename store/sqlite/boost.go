package sqlite

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/opencampfire/campfire"
)

const boostColumns = `b.id, b.message_id, m.room_id, b.content,
	b.booster_id, u.name AS booster_name, u.role AS booster_role, b.created_at`

type boostRow struct {
	ID          int64         `db:"id"`
	MessageID   int64         `db:"message_id"`
	RoomID      int64         `db:"room_id"`
	Content     string        `db:"content"`
	BoosterID   int64         `db:"booster_id"`
	BoosterName string        `db:"booster_name"`
	BoosterRole campfire.Role `db:"booster_role"`
	CreatedAt   int64         `db:"created_at"`
}

func (r boostRow) boost() campfire.Boost {
	return campfire.Boost{
		ID: r.ID, MessageID: r.MessageID, RoomID: r.RoomID, Content: r.Content,
		Booster:   campfire.UserRef{ID: r.BoosterID, Name: r.BoosterName, Role: r.BoosterRole},
		CreatedAt: fromNanos(r.CreatedAt),
	}
}

// selectBoosts returns the boosts matching where.
func selectBoosts(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]campfire.Boost, error) {
	var rows []boostRow
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+boostColumns+`
		FROM boosts b JOIN messages m ON m.id = b.message_id JOIN users u ON u.id = b.booster_id
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	boosts := make([]campfire.Boost, len(rows))
	for i, r := range rows {
		boosts[i] = r.boost()
	}
	return boosts, nil
}

// liveBoost returns boost id of message messageID of room roomID, unless
// the message or the room is deleted.
func liveBoost(ctx context.Context, q sqlx.QueryerContext, roomID, messageID, id int64) (campfire.Boost, error) {
	boosts, err := selectBoosts(ctx, q, `b.id = ? AND b.message_id = ? AND m.room_id = ? AND`+isLive, id, messageID, roomID)
	if err != nil {
		return campfire.Boost{}, err
	}
	if len(boosts) == 0 {
		return campfire.Boost{}, campfire.NotFound("boost")
	}
	return boosts[0], nil
}

// CreateBoost boosts a live message and appends boost.created.
func (s *Store) CreateBoost(ctx context.Context, roomID, messageID, boosterID int64, content string) (b campfire.Boost, ev campfire.Event, err error) {
	err = s.write(ctx, func(tx *conn) error {
		if _, err := liveMessage(ctx, tx, roomID, messageID); err != nil {
			return err
		}
		if _, err := getUser(ctx, tx, `u.id = ?`, boosterID); err != nil {
			return err
		}
		now := s.stamp()
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO boosts (message_id, booster_id, content, created_at)
			VALUES (?, ?, ?, ?) RETURNING id`, messageID, boosterID, content, now.UnixNano()); err != nil {
			return err
		}
		if b, err = liveBoost(ctx, tx, roomID, messageID, id); err != nil {
			return err
		}
		seq, err := nextSeq(ctx, tx, roomID)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, campfire.EventBoostCreated, roomID, seq, b, now)
		return err
	})
	if err != nil {
		return campfire.Boost{}, campfire.Event{}, err
	}
	return b, ev, nil
}

// Boost returns a boost of a live message of the room.
func (s *Store) Boost(ctx context.Context, roomID, messageID, id int64) (campfire.Boost, error) {
	return readOne(ctx, s, func(c *conn) (campfire.Boost, error) { return liveBoost(ctx, c, roomID, messageID, id) })
}

// DeleteBoost deletes the boost and appends boost.deleted.
func (s *Store) DeleteBoost(ctx context.Context, roomID, messageID, id int64) (campfire.Event, error) {
	var ev campfire.Event
	err := s.write(ctx, func(tx *conn) error {
		if _, err := liveBoost(ctx, tx, roomID, messageID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM boosts WHERE id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE room_events SET type = 'boost.deleted', data = json_object('id', boost_id, 'message_id', message_id)
			WHERE boost_id = ? AND type = 'boost.created'`, id); err != nil {
			return err
		}
		seq, err := nextSeq(ctx, tx, roomID)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, campfire.EventBoostDeleted, roomID, seq,
			campfire.IDData{ID: id, MessageID: messageID}, s.stamp())
		return err
	})
	return ev, err
}
