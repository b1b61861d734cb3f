package campfire

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Paging limits of GET /rooms/{id}/messages.
const (
	defaultPageSize = 50
	maxPageSize     = 100
	maxSearchHits   = 100
	maxSearchLength = 200
)

func (s *Server) getMessages(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	q := MessageQuery{RoomID: room.ID, Limit: defaultPageSize}
	cursors := 0
	for _, c := range []struct {
		name string
		dst  *int64
	}{{"before", &q.Before}, {"after", &q.After}, {"around", &q.Around}} {
		v := r.URL.Query().Get(c.name)
		if v == "" {
			continue
		}
		cursors++
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			// Not an id at all, so it names no message of this room.
			return NotFound("message")
		}
		*c.dst = id
	}
	if cursors > 1 {
		return invalid("before", "use at most one of before, after and around")
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return invalid("limit", "must be between 1 and %d", maxPageSize)
		}
		q.Limit = n
	}
	page, err := s.store.Messages(r.Context(), q)
	if err != nil {
		return err
	}
	msgs := page.Messages
	if msgs == nil {
		msgs = []Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "more_before": page.MoreBefore, "more_after": page.MoreAfter})
	return nil
}

type messageRequest struct {
	Body            *string `json:"body"`
	ClientMessageID string  `json:"client_message_id"`
}

// render renders markdown for a room, resolving mentions against its members.
func (s *Server) render(ctx context.Context, roomID int64, markdown string) (Rendered, error) {
	r, _, err := s.renderMembers(ctx, Room{ID: roomID}, markdown)
	return r, err
}

// renderMembers is render that also returns the room's members, so that a
// new message's webhooks need no second look-up. The members are read only
// when something needs them: a mention (there is none without an @) or a
// direct room's bots. Most messages mention nobody, and a big room's member
// list is the costliest read of a post.
func (s *Server) renderMembers(ctx context.Context, room Room, markdown string) (Rendered, []Member, error) {
	var members []Member
	if room.Kind == RoomDirect || strings.IndexByte(markdown, '@') >= 0 {
		var err error
		if members, err = s.store.Members(ctx, room.ID); err != nil {
			return Rendered{}, nil, err
		}
	}
	users := make([]User, len(members))
	for i, m := range members {
		users[i] = m.User
	}
	r, err := s.renderer.Render(markdown, users)
	if err == nil {
		err = checkMessageSize(r)
	}
	return r, members, err
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, u User) error {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return err
	}
	var req messageRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.allowPost(u); err != nil {
		return err
	}
	if req.Body == nil {
		return invalid("body", "must not be empty")
	}
	cid := strings.TrimSpace(req.ClientMessageID)
	if utf8.RuneCountInString(cid) > MaxClientMessageIDLen || strings.ContainsFunc(cid, isControl) {
		return invalid("client_message_id", "must be at most %d printable characters", MaxClientMessageIDLen)
	}
	msg, ev, err := s.post(r.Context(), room.Room, u, *req.Body, cid)
	if err != nil {
		return err
	}
	if ev.Seq == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"message": msg})
		return nil
	}
	// The event's Data is the message, encoded: not encoded again.
	b := make([]byte, 0, len(`{"message":}`+"\n")+len(ev.Data))
	b = append(append(append(b, `{"message":`...), ev.Data...), "}\n"...)
	writeRawJSON(w, http.StatusCreated, b)
	return nil
}

// PostMessage posts markdown to a room as author, from Go: the same rules as
// the HTTP API (author must be an active member; body rendered and
// validated; idempotent by clientMessageID), and the same events. created
// is false when the author already posted clientMessageID in the room.
func (s *Server) PostMessage(ctx context.Context, roomID int64, author User, markdown, clientMessageID string) (msg Message, created bool, err error) {
	if !author.Active() {
		return Message{}, false, ErrForbidden
	}
	room, err := s.memberRoom(ctx, roomID, author)
	if err != nil {
		return Message{}, false, err
	}
	msg, ev, err := s.post(ctx, room.Room, author, markdown, clientMessageID)
	return msg, ev.Seq != 0, err
}

// post is PostMessage for a room whose membership the caller has checked
// (the HTTP handlers resolve it from the path), so it is not read twice. It
// returns the message.created event if it created the message, and a zero
// Event if the author had already posted clientMessageID.
func (s *Server) post(ctx context.Context, room Room, author User, markdown, clientMessageID string) (Message, Event, error) {
	roomID := room.ID
	rendered, members, err := s.renderMembers(ctx, room, markdown)
	if err != nil {
		return Message{}, Event{}, err
	}
	// Campfire's rule: the room turns unread for visible members who are
	// not the author and not looking at it right now. The store marks them
	// in the message's own transaction.
	p, err := s.store.CreateMessage(ctx, NewMessage{
		RoomID: roomID, CreatorID: author.ID, ClientMessageID: clientMessageID,
		Body: rendered.Body, Mentions: rendered.Mentions, Sound: rendered.Sound,
		MarkUnread: true, Present: s.hub.Present(roomID),
	})
	if err != nil || !p.Created {
		return p.Message, Event{}, err
	}
	msg := p.Message
	s.hub.Publish(p.Event)
	if len(p.Unread) > 0 {
		unread := Event{Type: EventUnread, RoomID: roomID, Data: strconv.AppendInt([]byte(`{"room_id":`), roomID, 10)}
		unread.Data = append(unread.Data, '}')
		s.hub.PublishUsers(p.Unread, unread)
	}
	s.notifyBots(room, author, msg, members)
	return msg, p.Event, nil
}

// allowPost takes one of the user's posting tokens.
func (s *Server) allowPost(u User) error {
	if s.postLimits == nil {
		return nil
	}
	if ok, wait := s.postLimits.allow("user:" + idString(u.ID)); !ok {
		return &RateLimitError{RetryAfter: wait}
	}
	return nil
}

// pathMessage resolves {id} and {mid} to a message of a room u is in.
func (s *Server) pathMessage(r *http.Request, u User) (RoomWithMembership, Message, error) {
	room, err := s.pathRoom(r, u)
	if err != nil {
		return room, Message{}, err
	}
	mid, err := pathID(r, "mid", "message")
	if err != nil {
		return room, Message{}, err
	}
	msg, err := s.store.Message(r.Context(), room.ID, mid)
	return room, msg, err
}

// canChangeMessage: Campfire lets the creator and admins edit and delete.
func canChangeMessage(u User, m Message) bool {
	return u.Role == RoleAdmin || m.Creator.ID == u.ID
}

func (s *Server) patchMessage(w http.ResponseWriter, r *http.Request, u User) error {
	room, msg, err := s.pathMessage(r, u)
	if err != nil {
		return err
	}
	if !canChangeMessage(u, msg) {
		return forbidden("only the message's author or an admin can edit it")
	}
	var req messageRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Body == nil {
		return invalid("body", "must not be empty")
	}
	return s.editMessage(w, r, room.ID, msg.ID, *req.Body)
}

// editMessage replaces a message's body and answers with the message.
func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, roomID, id int64, markdown string) error {
	rendered, err := s.render(r.Context(), roomID, markdown)
	if err != nil {
		return err
	}
	msg, ev, err := s.store.UpdateMessage(r.Context(), roomID, id, rendered.Body, rendered.Mentions, rendered.Sound)
	if err != nil {
		return err
	}
	s.hub.Publish(ev)
	writeJSON(w, http.StatusOK, map[string]any{"message": msg})
	return nil
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request, u User) error {
	room, msg, err := s.pathMessage(r, u)
	if err != nil {
		return err
	}
	if !canChangeMessage(u, msg) {
		return forbidden("only the message's author or an admin can delete it")
	}
	ev, err := s.store.DeleteMessage(r.Context(), room.ID, msg.ID)
	if err != nil {
		return err
	}
	s.hub.Publish(ev)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postBoost(w http.ResponseWriter, r *http.Request, u User) error {
	if s.features.DisableBoosts {
		return &FeatureError{Feature: "boosts"}
	}
	room, msg, err := s.pathMessage(r, u)
	if err != nil {
		return err
	}
	var req struct {
		Content string `json:"content"`
	}
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.allowPost(u); err != nil {
		return err
	}
	return s.createBoost(w, r, u, room.ID, msg.ID, req.Content)
}

// createBoost validates content, boosts the message as u and answers with the boost.
func (s *Server) createBoost(w http.ResponseWriter, r *http.Request, u User, roomID, messageID int64, content string) error {
	content = strings.TrimSpace(content)
	if n := utf8.RuneCountInString(content); n < 1 || n > MaxBoostLength {
		return invalid("content", "must be 1 to %d characters", MaxBoostLength)
	}
	if strings.ContainsFunc(content, isControl) {
		return invalid("content", "must not contain control characters")
	}
	if blank(content) {
		return invalid("content", "must not be blank")
	}
	if err := checkVisible("content", content); err != nil {
		return err
	}
	boost, ev, err := s.store.CreateBoost(r.Context(), roomID, messageID, u.ID, content)
	if err != nil {
		return err
	}
	s.hub.Publish(ev)
	writeJSON(w, http.StatusCreated, map[string]any{"boost": boost})
	return nil
}

func (s *Server) deleteBoost(w http.ResponseWriter, r *http.Request, u User) error {
	if s.features.DisableBoosts {
		return &FeatureError{Feature: "boosts"}
	}
	room, msg, err := s.pathMessage(r, u)
	if err != nil {
		return err
	}
	bid, err := pathID(r, "bid", "boost")
	if err != nil {
		return err
	}
	boost, err := s.store.Boost(r.Context(), room.ID, msg.ID, bid)
	if err != nil {
		return err
	}
	if boost.Booster.ID != u.ID {
		return forbidden("only the booster can remove a boost")
	}
	ev, err := s.store.DeleteBoost(r.Context(), room.ID, msg.ID, bid)
	if err != nil {
		return err
	}
	s.hub.Publish(ev)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getSearch(w http.ResponseWriter, r *http.Request, u User) error {
	if s.features.DisableSearch {
		return &FeatureError{Feature: "search"}
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > maxSearchLength {
		return invalid("q", "must be at most %d characters", maxSearchLength)
	}
	var msgs []Message
	if q != "" {
		var err error
		if msgs, err = s.store.Search(r.Context(), u.ID, q, maxSearchHits); err != nil {
			return err
		}
	}
	if msgs == nil {
		msgs = []Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
	return nil
}
