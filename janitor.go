package campfire

import (
	"context"
	"errors"
	"time"
)

// runJanitor does the Hub's timed work: it expires typing and HTTP
// presence, closes connections whose session ended, prunes the event logs
// and fills gaps in rooms' events.
func (h *Hub) runJanitor() {
	defer h.janitor.Done()
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.expire()
			h.endExpiredSessions()
			h.recheckSessions(ctx)
			h.pruneEvents(ctx)
			h.fillGaps(ctx)
		}
	}
}

func (h *Hub) expire() {
	now := h.now()
	h.mu.Lock()
	rooms := make([]*hubRoom, 0, len(h.rooms))
	for id, rs := range h.rooms {
		rs.mu.Lock()
		idle := len(rs.subs) == 0 && len(rs.presence) == 0 && len(rs.pending) == 0
		rs.dead = idle
		rs.mu.Unlock()
		if idle {
			delete(h.rooms, id) // re-created from the Store when needed
			continue
		}
		rooms = append(rooms, rs)
	}
	h.mu.Unlock()
	h.typingMu.Lock()
	var stopped []typingKey
	for key, st := range h.typing {
		if now.After(st.expires) {
			stopped = append(stopped, key)
		}
	}
	h.typingMu.Unlock()
	for _, key := range stopped {
		h.stopTyping(key.room, key.user)
	}
	for _, rs := range rooms {
		rs.mu.Lock()
		changed := false
		for userID, keys := range rs.presence {
			for key, exp := range keys {
				if !exp.IsZero() && now.After(exp) && rs.setPresence(userID, key, false, time.Time{}) {
					changed = true
				}
			}
		}
		if changed {
			rs.broadcastPresence()
		}
		rs.mu.Unlock()
	}
}

// endExpiredSessions closes the connections whose session has reached its
// end, at most every sessionScanInterval.
func (h *Hub) endExpiredSessions() {
	now := h.now()
	if now.Sub(h.lastSessionScan) < sessionScanInterval {
		return
	}
	h.lastSessionScan = now
	h.closeWhere(func(s *Subscriber) bool { return !s.expires.IsZero() && !now.Before(s.expires) }, ReasonSessionEnded)
}

// pruneEvents forgets, at most every pruneInterval, the events older than
// the retention, on a goroutine of its own so that a long prune holds up
// neither gap fills nor typing. Clients resuming from a cursor that fell out
// of the log get a resync.
func (h *Hub) pruneEvents(ctx context.Context) {
	now := h.now()
	if h.retention <= 0 || now.Sub(h.lastPrune) < pruneInterval || !h.pruning.CompareAndSwap(false, true) {
		return
	}
	h.lastPrune = now
	h.janitor.Add(1)
	go func() {
		defer h.janitor.Done()
		defer h.pruning.Store(false)
		if err := h.store.PruneEvents(ctx, now.Add(-h.retention)); err != nil && ctx.Err() == nil {
			h.logger.Error("campfire: pruning the event logs", "err", err)
		}
	}()
}

// recheckSessions reads from the Store, at most every recheckInterval and
// on a goroutine of its own, whether the session (or, without one, the
// user) of each connection on this node is still valid, and closes those
// that are not. Signing out and deactivating close connections at once
// through the broker; this is what closes them on a node that never got
// that message.
func (h *Hub) recheckSessions(ctx context.Context) {
	now := h.now()
	if now.Sub(h.lastRecheck) < recheckInterval || !h.rechecking.CompareAndSwap(false, true) {
		return
	}
	h.lastRecheck = now
	type owner struct {
		session string
		user    int64
	}
	owners := map[owner][]byte{}
	h.mu.Lock()
	for userID, subs := range h.users {
		for s := range subs {
			owners[owner{s.session, userID}] = s.sessionHash
		}
	}
	h.mu.Unlock()
	h.janitor.Add(1)
	go func() {
		defer h.janitor.Done()
		defer h.rechecking.Store(false)
		for o, hash := range owners {
			_, err := h.signedIn(ctx, o.user, hash)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, ErrUnauthenticated) {
				h.logger.Warn("campfire: rechecking a connection's session", "user_id", o.user, "err", err)
				continue // try again next time
			}
			if o.session != "" {
				h.closeWhere(func(s *Subscriber) bool { return s.session == o.session }, ReasonSessionEnded)
			} else {
				h.closeWhere(func(s *Subscriber) bool { return s.user.ID == o.user && s.session == "" }, ReasonSessionEnded)
			}
		}
	}()
}
