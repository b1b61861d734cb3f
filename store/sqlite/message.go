package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/jmoiron/sqlx"
	"github.com/opencampfire/campfire"
)

const messageColumns = `m.id, m.room_id, m.seq, m.client_message_id,
	m.creator_id, u.name AS creator_name, u.role AS creator_role,
	m.markdown, m.html, m.plain_text, m.mentions, m.sound, m.created_at, m.updated_at`

const fromMessages = ` FROM messages m JOIN users u ON u.id = m.creator_id `

// isLive is the condition for a message that can be read and changed: not
// deleted, in a room that is not deleted.
const isLive = ` m.deleted_at IS NULL AND EXISTS (SELECT 1 FROM rooms r WHERE r.id = m.room_id AND r.deleted_at IS NULL) `

type messageRow struct {
	ID              int64         `db:"id"`
	RoomID          int64         `db:"room_id"`
	Seq             int64         `db:"seq"`
	ClientMessageID string        `db:"client_message_id"`
	CreatorID       int64         `db:"creator_id"`
	CreatorName     string        `db:"creator_name"`
	CreatorRole     campfire.Role `db:"creator_role"`
	Markdown        string        `db:"markdown"`
	HTML            string        `db:"html"`
	PlainText       string        `db:"plain_text"`
	Mentions        string        `db:"mentions"`
	Sound           string        `db:"sound"`
	CreatedAt       int64         `db:"created_at"`
	UpdatedAt       int64         `db:"updated_at"`
}

func (r messageRow) message() (campfire.Message, error) {
	m := campfire.Message{
		ID: r.ID, RoomID: r.RoomID, Seq: r.Seq, ClientMessageID: r.ClientMessageID,
		Creator:   campfire.UserRef{ID: r.CreatorID, Name: r.CreatorName, Role: r.CreatorRole},
		Body:      campfire.Body{Markdown: r.Markdown, HTML: r.HTML, PlainText: r.PlainText},
		Sound:     r.Sound,
		CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt),
	}
	if err := json.Unmarshal([]byte(r.Mentions), &m.Mentions); err != nil {
		return m, err
	}
	if len(m.Mentions) == 0 {
		m.Mentions = nil // none reads back as none, however it was written
	}
	return m, nil
}

// selectMessages returns the messages matching where, without their boosts.
func selectMessages(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]campfire.Message, error) {
	var rows []messageRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+messageColumns+fromMessages+`WHERE `+where, args...); err != nil {
		return nil, err
	}
	return messagesOf(rows)
}

func messagesOf(rows []messageRow) ([]campfire.Message, error) {
	msgs := make([]campfire.Message, len(rows))
	for i, r := range rows {
		var err error
		if msgs[i], err = r.message(); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// withBoosts fills in the boosts of msgs with one query.
func withBoosts(ctx context.Context, q sqlx.QueryerContext, msgs []campfire.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]int64, len(msgs))
	index := make(map[int64]int, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		index[m.ID] = i
	}
	boosts, err := selectBoosts(ctx, q, `b.message_id IN (SELECT value FROM json_each(?)) ORDER BY b.id`, idList(ids))
	if err != nil {
		return err
	}
	for _, b := range boosts {
		m := &msgs[index[b.MessageID]]
		m.Boosts = append(m.Boosts, b)
	}
	return nil
}

// liveMessage returns message id of room roomID with its boosts, unless it
// or its room is deleted.
func liveMessage(ctx context.Context, q sqlx.QueryerContext, roomID, id int64) (campfire.Message, error) {
	msgs, err := selectMessages(ctx, q, `m.id = ? AND m.room_id = ? AND`+isLive, id, roomID)
	if err != nil {
		return campfire.Message{}, err
	}
	if len(msgs) == 0 {
		return campfire.Message{}, campfire.NotFound("message")
	}
	return msgs[0], withBoosts(ctx, q, msgs)
}

// CreateMessage stores m and appends message.created, unless its creator
// already posted it under the same ClientMessageID. Writes are serialized on
// one connection, so of concurrent retries exactly one finds nothing and
// inserts.
func (s *Store) CreateMessage(ctx context.Context, m campfire.NewMessage) (campfire.Posted, error) {
	var p campfire.Posted
	err := s.write(ctx, func(tx *conn) error {
		p = campfire.Posted{}
		// One statement for the creator's name and role, which the
		// message carries, and for an earlier post under the same client
		// id. The literal <> '' lets SQLite use the partial unique index;
		// with only a bound parameter it cannot prove the index applies,
		// and scans the room. (No creator: the insert fails on the foreign
		// key.)
		var creator struct {
			Name     string        `db:"name"`
			Role     campfire.Role `db:"role"`
			Existing int64         `db:"existing"`
		}
		err := tx.GetContext(ctx, &creator, `SELECT u.name, u.role, coalesce((SELECT id FROM messages
			WHERE room_id = ? AND creator_id = u.id AND client_message_id = ? AND client_message_id <> ''), 0) AS existing
			FROM users u WHERE u.id = ?`, m.RoomID, m.ClientMessageID, m.CreatorID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if creator.Existing != 0 {
			// As it now is, emptied if it was deleted since.
			found, err := selectMessages(ctx, tx, `m.id = ?`, creator.Existing)
			if err == nil {
				err = withBoosts(ctx, tx, found)
			}
			if err == nil {
				p.Message = found[0]
			}
			return err
		}
		// The seq, and the room's UpdatedAt, in one statement.
		now := s.stamp()
		var seq int64
		err = tx.GetContext(ctx, &seq, `UPDATE rooms SET last_seq = last_seq + 1, updated_at = ?
			WHERE id = ? AND deleted_at IS NULL RETURNING last_seq`, now.UnixNano(), m.RoomID)
		if err != nil {
			return notFound(err, "room")
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO messages
			(room_id, creator_id, client_message_id, seq, markdown, html, plain_text, mentions, sound, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.RoomID, m.CreatorID, m.ClientMessageID, seq, m.Body.Markdown, m.Body.HTML, m.Body.PlainText,
			idList(m.Mentions), m.Sound, now.UnixNano(), now.UnixNano()); err != nil {
			return err
		}
		tx.execAtCommit(`INSERT INTO messages_fts (rowid, plain_text) VALUES (?, ?)`, id, m.Body.PlainText)
		// What reads would return, without reading it back: a new message
		// has no boosts, and its columns are what was just written.
		msg := campfire.Message{
			ID: id, RoomID: m.RoomID, Seq: seq, ClientMessageID: m.ClientMessageID,
			Creator: campfire.UserRef{ID: m.CreatorID, Name: creator.Name, Role: creator.Role},
			Body:    m.Body, Sound: m.Sound, CreatedAt: now, UpdatedAt: now,
		}
		if len(m.Mentions) > 0 {
			msg.Mentions = slices.Clone(m.Mentions)
		}
		ev, err := appendEvent(ctx, tx, campfire.EventMessageCreated, m.RoomID, seq, msg, now)
		if err != nil {
			return err
		}
		p = campfire.Posted{Message: msg, Event: ev, Created: true}
		if m.MarkUnread {
			p.Unread, err = markUnread(ctx, tx, m.RoomID, append(slices.Clip(m.Present), m.CreatorID), now)
		}
		return err
	})
	if err != nil {
		return campfire.Posted{}, err
	}
	return p, nil
}

// Message returns a live message of the room with its boosts.
func (s *Store) Message(ctx context.Context, roomID, id int64) (campfire.Message, error) {
	var msg campfire.Message
	err := s.read(ctx, func(tx *conn) (err error) {
		msg, err = liveMessage(ctx, tx, roomID, id)
		return err
	})
	return msg, err
}

// maxPage is the most messages a page holds.
const maxPage = 100

// Messages returns a page of the room's live messages, oldest first, or
// ErrNotFound if the room does not exist or was deleted. A Limit outside 1
// to 100 is taken as the nearest of the two.
func (s *Store) Messages(ctx context.Context, q campfire.MessageQuery) (campfire.MessagePage, error) {
	limit := min(max(q.Limit, 1), maxPage)
	var page campfire.MessagePage
	err := s.read(ctx, func(tx *conn) error {
		// As for Message, a deleted room's messages are gone.
		if _, err := liveRoom(ctx, tx, q.RoomID); err != nil {
			return err
		}
		if cursor := cmp.Or(q.Before, q.After, q.Around); cursor != 0 {
			var ok bool
			if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM messages WHERE id = ? AND room_id = ?)`, cursor, q.RoomID); err != nil {
				return err
			}
			if !ok {
				return campfire.NotFound("message")
			}
		}
		// older returns up to n live messages before id, oldest first;
		// newer up to n from id on.
		older := func(id int64, n int) ([]campfire.Message, error) {
			msgs, err := selectMessages(ctx, tx, `m.room_id = ? AND m.id < ? AND m.deleted_at IS NULL ORDER BY m.id DESC LIMIT ?`, q.RoomID, id, n)
			slices.Reverse(msgs)
			return msgs, err
		}
		newer := func(id int64, n int) ([]campfire.Message, error) {
			return selectMessages(ctx, tx, `m.room_id = ? AND m.id >= ? AND m.deleted_at IS NULL ORDER BY m.id LIMIT ?`, q.RoomID, id, n)
		}
		exists := func(cond string, id int64) (ok bool, err error) {
			err = tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM messages m WHERE m.room_id = ? AND m.deleted_at IS NULL AND `+cond+`)`, q.RoomID, id)
			return ok, err
		}
		// Each side is fetched one past what it may contribute, so that
		// the row left over says whether there is more.
		var before, after []campfire.Message
		var err error
		switch {
		case q.Before != 0:
			if before, err = older(q.Before, limit+1); err == nil {
				page.MoreAfter, err = exists(`m.id >= ?`, q.Before)
			}
		case q.After != 0:
			if after, err = newer(q.After+1, limit+1); err == nil {
				page.MoreBefore, err = exists(`m.id <= ?`, q.After)
			}
		case q.Around != 0:
			if before, err = older(q.Around, limit+1); err == nil {
				after, err = newer(q.Around, limit+1)
			}
		default:
			before, err = older(math.MaxInt64, limit+1)
		}
		if err != nil {
			return err
		}
		// Around shares the limit: the newer side, which holds the cursor,
		// gets the odd one, and a side that runs short leaves its share to
		// the other. With one side empty this keeps the limit from the other.
		nb := min(len(before), limit/2)
		na := min(len(after), limit-nb)
		nb = min(len(before), limit-na)
		page.MoreBefore = page.MoreBefore || len(before) > nb
		page.MoreAfter = page.MoreAfter || len(after) > na
		page.Messages = append(before[len(before)-nb:], after[:na]...)
		return withBoosts(ctx, tx, page.Messages)
	})
	if err != nil {
		return campfire.MessagePage{}, err
	}
	return page, nil
}

// UpdateMessage replaces the message's body, mentions and sound and appends
// message.updated.
func (s *Store) UpdateMessage(ctx context.Context, roomID, id int64, body campfire.Body, mentions []int64, sound string) (msg campfire.Message, ev campfire.Event, err error) {
	err = s.write(ctx, func(tx *conn) error {
		old, err := liveMessage(ctx, tx, roomID, id)
		if err != nil {
			return err
		}
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `UPDATE messages
			SET markdown = ?, html = ?, plain_text = ?, mentions = ?, sound = ?, updated_at = ? WHERE id = ?`,
			body.Markdown, body.HTML, body.PlainText, idList(mentions), sound, now.UnixNano(), id); err != nil {
			return err
		}
		unindex(tx, id, old.Body.PlainText)
		tx.execAtCommit(`INSERT INTO messages_fts (rowid, plain_text) VALUES (?, ?)`, id, body.PlainText)
		seq, err := nextSeq(ctx, tx, roomID)
		if err != nil {
			return err
		}
		if msg, err = liveMessage(ctx, tx, roomID, id); err != nil {
			return err
		}
		if ev, err = appendEvent(ctx, tx, campfire.EventMessageUpdated, roomID, seq, msg, now); err != nil {
			return err
		}
		return rewriteMessageEvents(ctx, tx, id, ev.Data)
	})
	if err != nil {
		return campfire.Message{}, campfire.Event{}, err
	}
	return msg, ev, nil
}

// DeleteMessage deletes the message, its boosts and its search entry, and
// appends message.deleted. The row stays, emptied, so that its id remains a
// valid cursor and a retried post with its client id still finds it.
func (s *Store) DeleteMessage(ctx context.Context, roomID, id int64) (campfire.Event, error) {
	var ev campfire.Event
	err := s.write(ctx, func(tx *conn) error {
		old, err := liveMessage(ctx, tx, roomID, id)
		if err != nil {
			return err
		}
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `UPDATE messages
			SET deleted_at = ?, markdown = '', html = '', plain_text = '', mentions = '[]', sound = '' WHERE id = ?`,
			now.UnixNano(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM boosts WHERE message_id = ?`, id); err != nil {
			return err
		}
		unindex(tx, id, old.Body.PlainText)
		if err := tombstoneMessageEvents(ctx, tx, id); err != nil {
			return err
		}
		seq, err := nextSeq(ctx, tx, roomID)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, campfire.EventMessageDeleted, roomID, seq, campfire.IDData{ID: id}, now)
		return err
	})
	return ev, err
}

// unindex removes a message's words from the search index. The index is
// contentless: it is told the text that was indexed (messages.plain_text,
// which must match exactly), and with its secure-delete option (migration
// 0003) takes the words out of the index itself.
func unindex(tx *conn, id int64, plainText string) {
	tx.execAtCommit(`INSERT INTO messages_fts (messages_fts, rowid, plain_text) VALUES ('delete', ?, ?)`, id, plainText)
}

// Search returns the live messages matching every word of query in the
// live rooms userID is a member of, newest first; limit 0 means no cap.
func (s *Store) Search(ctx context.Context, userID int64, query string, limit int) ([]campfire.Message, error) {
	match := ftsQuery(query)
	if match == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var msgs []campfire.Message
	err := s.readLong(ctx, func(tx *conn) error {
		// Driven by the index, newest first: FTS5 yields its rowids (the
		// message ids) in descending order, so the query stops at the
		// limit rather than collect every match of a common word or a
		// short prefix and sort them.
		var rows []messageRow
		err := tx.SelectContext(ctx, &rows, `SELECT `+messageColumns+`
			FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN users u ON u.id = m.creator_id
			WHERE messages_fts MATCH ?
			AND m.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?)
			AND`+isLive+`
			ORDER BY f.rowid DESC LIMIT ?`, match, userID, limit)
		if err != nil {
			return err
		}
		if msgs, err = messagesOf(rows); err != nil {
			return err
		}
		return withBoosts(ctx, tx, msgs)
	})
	return msgs, err
}

// ftsQuery turns what a person typed into an FTS5 query that cannot be a
// syntax error: only the words are kept, each quoted as a string, all of
// them required, the last one also as a prefix of a longer word, as it may
// be still being typed. No words gives "".
func ftsQuery(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool {
		return !unicode.In(r, unicode.L, unicode.N, unicode.M)
	})
	if len(words) == 0 {
		return ""
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	words[len(words)-1] += "*"
	return strings.Join(words, " AND ")
}
