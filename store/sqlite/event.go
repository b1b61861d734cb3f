package sqlite

import (
	"context"
	"time"

	"github.com/opencampfire/campfire"
)

// nextSeq takes the room's next sequence number. Run inside the write
// transaction that appends the event, it is gap-free: the one writer
// connection runs those transactions one after another, so they commit in
// the order they took their numbers, and a rollback gives its number back.
func nextSeq(ctx context.Context, tx *conn, roomID int64) (int64, error) {
	var seq int64
	err := tx.GetContext(ctx, &seq, `UPDATE rooms SET last_seq = last_seq + 1
		WHERE id = ? AND deleted_at IS NULL RETURNING last_seq`, roomID)
	return seq, notFound(err, "room")
}

// appendEvent stores the event whose Data is v encoded, as it is sent live.
// Events about a message or a boost note its id, so that an edit or a
// delete can rewrite what a replay will send.
func appendEvent(ctx context.Context, tx *conn, t campfire.EventType, roomID, seq int64, v any, now time.Time) (campfire.Event, error) {
	ev, err := campfire.NewEvent(t, roomID, seq, v)
	if err != nil {
		return campfire.Event{}, err
	}
	var messageID, boostID *int64
	switch v := v.(type) {
	case campfire.Message:
		messageID = &v.ID
	case campfire.Boost:
		messageID, boostID = &v.MessageID, &v.ID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO room_events (room_id, seq, type, data, created_at, message_id, boost_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, roomID, seq, t, []byte(ev.Data), now.UnixNano(), messageID, boostID)
	return ev, err
}

// rewriteMessageEvents makes every event of a message that carries its
// content carry data instead (its current state), so that no replay
// returns an earlier text.
func rewriteMessageEvents(ctx context.Context, tx *conn, messageID int64, data []byte) error {
	_, err := tx.ExecContext(ctx, `UPDATE room_events SET data = ?
		WHERE message_id = ? AND type IN ('message.created', 'message.updated')`, data, messageID)
	return err
}

// tombstoneMessageEvents turns a deleted message's events, and those of its
// boosts, into deletions: a replay returns none of its content.
func tombstoneMessageEvents(ctx context.Context, tx *conn, messageID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE room_events SET type = 'message.deleted', data = json_object('id', message_id)
		WHERE message_id = ? AND type IN ('message.created', 'message.updated')`, messageID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE room_events SET type = 'boost.deleted', data = json_object('id', boost_id, 'message_id', message_id)
		WHERE message_id = ? AND type = 'boost.created'`, messageID)
	return err
}

// appendMembersRemoved records in the room's log that users lost access to
// it; their streams of the room end at this event.
func appendMembersRemoved(ctx context.Context, tx *conn, roomID int64, userIDs []int64, now time.Time) (campfire.Event, error) {
	seq, err := nextSeq(ctx, tx, roomID)
	if err != nil {
		return campfire.Event{}, err
	}
	return appendEvent(ctx, tx, campfire.EventMembersRemoved, roomID, seq, campfire.UserIDsData{UserIDs: userIDs}, now)
}

// Events returns the room's events after since. A deleted room's log stays
// readable, so that a client resuming learns of the deletion.
func (s *Store) Events(ctx context.Context, roomID, since int64, limit int) ([]campfire.Event, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	since = max(since, 0)
	var events []campfire.Event
	err := s.read(ctx, func(tx *conn) error {
		var room struct {
			Oldest  *int64 `db:"oldest"` // nil: the room has no events
			LastSeq int64  `db:"last_seq"`
		}
		err := tx.GetContext(ctx, &room, `SELECT (SELECT min(seq) FROM room_events WHERE room_id = r.id) AS oldest, r.last_seq
			FROM rooms r WHERE r.id = ?`, roomID)
		if err != nil {
			return notFound(err, "room")
		}
		// Events since+1 onwards must all be kept, and a cursor past the
		// log's end comes from another history (a restored backup): the
		// client must reload rather than wait for seqs it already has.
		if room.Oldest != nil && since+1 < *room.Oldest || since > room.LastSeq {
			return campfire.ErrResync
		}
		var rows []struct {
			Type campfire.EventType `db:"type"`
			Seq  int64              `db:"seq"`
			Data []byte             `db:"data"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT type, seq, data FROM room_events
			WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?`, roomID, since, limit); err != nil {
			return err
		}
		events = make([]campfire.Event, len(rows))
		for i, r := range rows {
			events[i] = campfire.Event{Type: r.Type, RoomID: roomID, Seq: r.Seq, Data: r.Data}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// PruneEvents forgets the events stored before the time before, except
// each room's latest, which keeps its LastSeq known.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) error {
	return s.write(ctx, func(tx *conn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM room_events
			WHERE created_at < ? AND seq < (SELECT last_seq FROM rooms WHERE rooms.id = room_events.room_id)`,
			before.UnixNano())
		return err
	})
}
