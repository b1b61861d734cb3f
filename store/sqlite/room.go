package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/opencampfire/campfire"
)

const roomColumns = `r.id, r.kind, r.name, r.creator_id, r.created_at, r.updated_at, r.last_seq, r.direct_key`

type roomRow struct {
	ID        int64             `db:"id"`
	Kind      campfire.RoomKind `db:"kind"`
	Name      string            `db:"name"`
	CreatorID int64             `db:"creator_id"`
	CreatedAt int64             `db:"created_at"`
	UpdatedAt int64             `db:"updated_at"`
	LastSeq   int64             `db:"last_seq"`
	DirectKey string            `db:"direct_key"`
}

func (r roomRow) room() (campfire.Room, error) {
	room := campfire.Room{
		ID: r.ID, Kind: r.Kind, Name: r.Name, CreatorID: r.CreatorID,
		CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt), LastSeq: r.LastSeq,
	}
	// A direct room's members never change, so its key is its member list.
	if r.DirectKey != "" {
		for _, f := range strings.Split(r.DirectKey, ",") {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return campfire.Room{}, fmt.Errorf("sqlite: room %d: bad direct key %q", r.ID, r.DirectKey)
			}
			room.UserIDs = append(room.UserIDs, id)
		}
	}
	return room, nil
}

// directKey is the direct_key of a direct room of the sorted ids.
func directKey(ids []int64) string {
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(fields, ",")
}

type membershipRow struct {
	Involvement campfire.Involvement `db:"involvement"`
	UnreadAt    sql.NullInt64        `db:"unread_at"`
	JoinedAt    int64                `db:"joined_at"`
}

const membershipColumns = `m.involvement, m.unread_at, m.created_at AS joined_at`

func (m membershipRow) membership(roomID, userID int64) campfire.Membership {
	return campfire.Membership{
		RoomID: roomID, UserID: userID, Involvement: m.Involvement,
		UnreadAt: nullTime(m.UnreadAt), CreatedAt: fromNanos(m.JoinedAt),
	}
}

// CreateRoom creates an open or closed room and its memberships.
func (s *Store) CreateRoom(ctx context.Context, r campfire.NewRoom) (campfire.Room, error) {
	var room campfire.Room
	err := s.write(ctx, func(tx *conn) (err error) {
		room, err = createRoom(ctx, tx, r, s.stamp())
		return err
	})
	return room, err
}

func createRoom(ctx context.Context, tx *conn, r campfire.NewRoom, now time.Time) (campfire.Room, error) {
	if r.Kind != campfire.RoomOpen && r.Kind != campfire.RoomClosed {
		return campfire.Room{}, fmt.Errorf("%w: CreateRoom makes open and closed rooms, not %q", campfire.ErrInvalid, r.Kind)
	}
	if _, err := getUser(ctx, tx, `u.id = ?`, r.CreatorID); err != nil {
		return campfire.Room{}, err
	}
	room, err := insertRoom(ctx, tx, r.Kind, r.Name, r.CreatorID, "", now)
	if err != nil {
		return campfire.Room{}, err
	}
	if r.Kind == campfire.RoomOpen {
		_, err = addActiveMembers(ctx, tx, room, nil, now)
		return room, err
	}
	_, err = addActiveMembers(ctx, tx, room, append([]int64{r.CreatorID}, r.UserIDs...), now)
	return room, err
}

func insertRoom(ctx context.Context, tx *conn, kind campfire.RoomKind, name string, creatorID int64, key string, now time.Time) (campfire.Room, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO rooms (kind, name, creator_id, created_at, updated_at, direct_key)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		kind, name, creatorID, now.UnixNano(), now.UnixNano(), key)
	if err != nil {
		return campfire.Room{}, err
	}
	return liveRoom(ctx, tx, id)
}

// addActiveMembers makes active users members of room with the room's
// default involvement: the users in ids, or every active user when ids is
// nil. Ids of missing or deactivated users are skipped, as are current
// members. It returns whom it added, ascending.
func addActiveMembers(ctx context.Context, tx *conn, room campfire.Room, ids []int64, now time.Time) ([]int64, error) {
	var added []int64
	err := tx.SelectContext(ctx, &added, `INSERT INTO memberships (room_id, user_id, involvement, created_at)
		SELECT ?, id, ?, ? FROM users
		WHERE status = 'active' AND (? OR id IN (SELECT value FROM json_each(?)))
		ON CONFLICT DO NOTHING
		RETURNING user_id`,
		room.ID, campfire.DefaultInvolvement(room.Kind), now.UnixNano(), ids == nil, idList(ids))
	slices.Sort(added) // RETURNING promises no order
	return added, err
}

// DirectRoom returns the live direct room of exactly userIDs, creating it
// if there is none.
func (s *Store) DirectRoom(ctx context.Context, creatorID int64, userIDs []int64) (campfire.Room, bool, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(userIDs)))
	if len(ids) == 0 {
		return campfire.Room{}, false, fmt.Errorf("%w: a direct room needs at least one user", campfire.ErrInvalid)
	}
	key := directKey(ids)
	var (
		room    campfire.Room
		created bool
	)
	err := s.write(ctx, func(tx *conn) error {
		var row roomRow
		err := tx.GetContext(ctx, &row, `SELECT `+roomColumns+` FROM rooms r WHERE r.direct_key = ? AND r.deleted_at IS NULL`, key)
		if err == nil {
			room, err = row.room()
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT
				(SELECT count(*) FROM users WHERE id IN (SELECT value FROM json_each(?))) = ?
				AND EXISTS (SELECT 1 FROM users WHERE id = ?)`,
			idList(ids), len(ids), creatorID); err != nil {
			return err
		}
		if !ok {
			return campfire.NotFound("user")
		}
		now := s.stamp()
		if room, err = insertRoom(ctx, tx, campfire.RoomDirect, "", creatorID, key, now); err != nil {
			return err
		}
		// Direct rooms keep their deactivated members, so membership here
		// does not ask for an active user.
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (room_id, user_id, involvement, created_at)
			SELECT ?, value, ?, ? FROM json_each(?)`,
			room.ID, campfire.DefaultInvolvement(campfire.RoomDirect), now.UnixNano(), idList(ids))
		created = err == nil
		return err
	})
	return room, created, err
}

// Room returns the room, unless it does not exist or was deleted.
func (s *Store) Room(ctx context.Context, id int64) (campfire.Room, error) {
	return readOne(ctx, s, func(c *conn) (campfire.Room, error) { return liveRoom(ctx, c, id) })
}

func liveRoom(ctx context.Context, q sqlx.QueryerContext, id int64) (campfire.Room, error) {
	var row roomRow
	if err := sqlx.GetContext(ctx, q, &row, `SELECT `+roomColumns+` FROM rooms r WHERE r.id = ? AND r.deleted_at IS NULL`, id); err != nil {
		return campfire.Room{}, notFound(err, "room")
	}
	return row.room()
}

// Membership returns userID's membership of roomID. A deleted room has no
// memberships left, so it needs no check of its own.
func (s *Store) Membership(ctx context.Context, roomID, userID int64) (campfire.Membership, error) {
	var row membershipRow
	err := s.get(ctx, &row, `SELECT `+membershipColumns+` FROM memberships m WHERE m.room_id = ? AND m.user_id = ?`, roomID, userID)
	if err != nil {
		return campfire.Membership{}, notFound(err, "room")
	}
	return row.membership(roomID, userID), nil
}

// RoomForUser returns the room with userID's membership of it.
func (s *Store) RoomForUser(ctx context.Context, roomID, userID int64) (campfire.RoomWithMembership, error) {
	var row struct {
		roomRow
		membershipRow
	}
	err := s.get(ctx, &row, `SELECT `+roomColumns+`, `+membershipColumns+`
		FROM memberships m JOIN rooms r ON r.id = m.room_id
		WHERE m.room_id = ? AND m.user_id = ? AND r.deleted_at IS NULL`, roomID, userID)
	if err != nil {
		return campfire.RoomWithMembership{}, notFound(err, "room")
	}
	room, err := row.room()
	if err != nil {
		return campfire.RoomWithMembership{}, err
	}
	return campfire.RoomWithMembership{Room: room, Membership: row.membership(roomID, userID)}, nil
}

// RoomsForUser returns the rooms userID is a member of, by id.
func (s *Store) RoomsForUser(ctx context.Context, userID int64) ([]campfire.RoomWithMembership, error) {
	var rows []struct {
		roomRow
		membershipRow
	}
	err := s.selectAll(ctx, &rows, `SELECT `+roomColumns+`, `+membershipColumns+`
		FROM memberships m JOIN rooms r ON r.id = m.room_id
		WHERE m.user_id = ? AND r.deleted_at IS NULL
		ORDER BY r.id`, userID)
	if err != nil {
		return nil, err
	}
	rooms := make([]campfire.RoomWithMembership, len(rows))
	for i, row := range rows {
		room, err := row.room()
		if err != nil {
			return nil, err
		}
		rooms[i] = campfire.RoomWithMembership{Room: room, Membership: row.membership(room.ID, userID)}
	}
	return rooms, nil
}

// Members returns the room's members with their involvement, by id.
func (s *Store) Members(ctx context.Context, roomID int64) ([]campfire.Member, error) {
	var rows []struct {
		userRow
		Involvement campfire.Involvement `db:"involvement"`
	}
	err := s.read(ctx, func(tx *conn) error {
		if _, err := liveRoom(ctx, tx, roomID); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, `SELECT `+userColumns+`, m.involvement
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.room_id = ?
			ORDER BY u.id`, roomID)
	})
	if err != nil {
		return nil, err
	}
	members := make([]campfire.Member, len(rows))
	for i, r := range rows {
		members[i] = campfire.Member{User: r.user(), Involvement: r.Involvement}
	}
	return members, nil
}

// UpdateRoom applies u and appends room.updated.
func (s *Store) UpdateRoom(ctx context.Context, id int64, u campfire.RoomUpdate) (campfire.RoomChange, error) {
	var c campfire.RoomChange
	err := s.write(ctx, func(tx *conn) error {
		room, err := liveRoom(ctx, tx, id)
		if err != nil {
			return err
		}
		if room.Kind == campfire.RoomDirect && (u.Kind != nil || u.UserIDs != nil) {
			return fmt.Errorf("%w: a direct room's kind and members never change", campfire.ErrInvalid)
		}
		if u.Kind != nil && *u.Kind != campfire.RoomOpen && *u.Kind != campfire.RoomClosed {
			return fmt.Errorf("%w: a room converts only to open or closed, not %q", campfire.ErrInvalid, *u.Kind)
		}
		if u.Name != nil {
			room.Name = *u.Name
		}
		becameOpen := u.Kind != nil && *u.Kind == campfire.RoomOpen && room.Kind != campfire.RoomOpen
		if u.Kind != nil {
			room.Kind = *u.Kind
		}
		now := s.stamp()
		switch {
		case becameOpen:
			c.Added, err = addActiveMembers(ctx, tx, room, nil, now)
		case room.Kind == campfire.RoomClosed && u.UserIDs != nil:
			keep := append([]int64{room.CreatorID}, *u.UserIDs...)
			if err = tx.SelectContext(ctx, &c.Removed, `DELETE FROM memberships
				WHERE room_id = ? AND user_id NOT IN (SELECT value FROM json_each(?))
				RETURNING user_id`, room.ID, idList(keep)); err != nil {
				return err
			}
			slices.Sort(c.Removed)
			c.Added, err = addActiveMembers(ctx, tx, room, keep, now)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET name = ?, kind = ? WHERE id = ?`, room.Name, room.Kind, room.ID); err != nil {
			return err
		}
		if len(c.Removed) > 0 {
			if c.Revoked, err = appendMembersRemoved(ctx, tx, room.ID, c.Removed, now); err != nil {
				return err
			}
		}
		if room.LastSeq, err = nextSeq(ctx, tx, room.ID); err != nil {
			return err
		}
		c.Room = room
		c.Event, err = appendEvent(ctx, tx, campfire.EventRoomUpdated, room.ID, room.LastSeq, room, now)
		return err
	})
	if err != nil {
		return campfire.RoomChange{}, err
	}
	return c, nil
}

// DeleteRoom marks the room deleted, ends its memberships, drops its
// messages from search and appends room.deleted. The row stays, so that its
// event log and LastSeq stay readable for clients that resume.
func (s *Store) DeleteRoom(ctx context.Context, id int64) (campfire.RoomChange, error) {
	var c campfire.RoomChange
	err := s.write(ctx, func(tx *conn) error {
		room, err := liveRoom(ctx, tx, id)
		if err != nil {
			return err
		}
		tx.execAtCommit(`INSERT INTO messages_fts (messages_fts, rowid, plain_text)
			SELECT 'delete', id, plain_text FROM messages WHERE room_id = ? AND deleted_at IS NULL`, id)
		if err := tx.SelectContext(ctx, &c.Removed, `DELETE FROM memberships WHERE room_id = ? RETURNING user_id`, id); err != nil {
			return err
		}
		slices.Sort(c.Removed)
		if room.LastSeq, err = nextSeq(ctx, tx, id); err != nil {
			return err
		}
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET deleted_at = ? WHERE id = ?`, now.UnixNano(), id); err != nil {
			return err
		}
		c.Room = room
		c.Event, err = appendEvent(ctx, tx, campfire.EventRoomDeleted, id, room.LastSeq, campfire.IDData{ID: id}, now)
		return err
	})
	if err != nil {
		return campfire.RoomChange{}, err
	}
	return c, nil
}

// SetInvolvement changes a member's involvement.
func (s *Store) SetInvolvement(ctx context.Context, roomID, userID int64, inv campfire.Involvement) (campfire.Membership, error) {
	if !inv.Valid() {
		return campfire.Membership{}, fmt.Errorf("%w: unknown involvement %q", campfire.ErrInvalid, inv)
	}
	var row membershipRow
	err := s.write(ctx, func(tx *conn) error {
		err := tx.GetContext(ctx, &row, `UPDATE memberships SET involvement = ?
			WHERE room_id = ? AND user_id = ? RETURNING involvement, unread_at, created_at AS joined_at`, inv, roomID, userID)
		return notFound(err, "room")
	})
	if err != nil {
		return campfire.Membership{}, err
	}
	return row.membership(roomID, userID), nil
}

// MarkUnread marks the room unread for its visible members but those in
// except. A member already unread keeps the time they first became so.
func (s *Store) MarkUnread(ctx context.Context, roomID int64, except []int64, at time.Time) ([]int64, error) {
	var marked []int64
	err := s.write(ctx, func(tx *conn) (err error) {
		marked, err = markUnread(ctx, tx, roomID, except, at)
		return err
	})
	return marked, err
}

func markUnread(ctx context.Context, tx *conn, roomID int64, except []int64, at time.Time) ([]int64, error) {
	// Only rows still read are written: a busy room's members are mostly
	// unread already, and rewriting them all on every message would make
	// each post cost a write per member.
	if _, err := tx.ExecContext(ctx, `UPDATE memberships SET unread_at = ?
		WHERE room_id = ? AND involvement <> ? AND unread_at IS NULL
		AND user_id NOT IN (SELECT value FROM json_each(?))`,
		at.UnixNano(), roomID, campfire.InvolvementInvisible, idList(except)); err != nil {
		return nil, err
	}
	// One row, a list, rather than a row per member: scanning is most of
	// the cost of reading a big room's members. The few excepted are left
	// out here rather than in SQL.
	var ids sql.NullString
	err := tx.GetContext(ctx, &ids, `SELECT group_concat(user_id) FROM memberships
		WHERE room_id = ? AND involvement <> ?`, roomID, campfire.InvolvementInvisible)
	if err != nil || !ids.Valid {
		return nil, err
	}
	marked, err := parseIDs(ids.String)
	if err != nil {
		return nil, err
	}
	marked = slices.DeleteFunc(marked, func(id int64) bool { return slices.Contains(except, id) })
	if len(marked) == 0 {
		return nil, nil
	}
	slices.Sort(marked)
	return marked, nil
}

// parseIDs parses what group_concat makes of integer ids: "1,2,3".
func parseIDs(s string) ([]int64, error) {
	ids := make([]int64, 0, strings.Count(s, ",")+1)
	for f := range strings.SplitSeq(s, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading an id list: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// MarkRead clears userID's unread mark.
func (s *Store) MarkRead(ctx context.Context, roomID, userID int64) error {
	return s.write(ctx, func(tx *conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE memberships SET unread_at = NULL WHERE room_id = ? AND user_id = ?`, roomID, userID)
		return changed(res, err, "room")
	})
}
