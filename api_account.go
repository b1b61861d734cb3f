package campfire

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/crc32"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Authenticate returns the user that r is signed in as: through
// [Config.Authenticate] when the host supplies identity, else by the
// session cookie (or an "Authorization: Bearer" session token). Only active
// users authenticate. Transports call it at the upgrade.
func (s *Server) Authenticate(r *http.Request) (User, error) {
	u, _, err := s.authenticate(r)
	return u, err
}

// authenticate also returns the key of the session (empty for host
// identities), so that ending the session can close its sockets.
func (s *Server) authenticate(r *http.Request) (User, string, error) {
	if u, ok := UserFromContext(r.Context()); ok {
		return u, sessionKeyFromContext(r.Context()), nil
	}
	if s.auth != nil {
		u, err := s.hostUser(r)
		return u, "", err
	}
	token := sessionToken(r)
	if token == "" {
		return User{}, "", ErrUnauthenticated
	}
	hash := hashToken(token)
	sess, u, err := s.store.Session(r.Context(), hash)
	if errors.Is(err, ErrNotFound) {
		return User{}, "", ErrUnauthenticated
	}
	if err != nil {
		return User{}, "", err
	}
	if !u.Active() {
		return User{}, "", ErrUnauthenticated
	}
	now := s.now()
	if now.Sub(sess.CreatedAt) > s.sessionMaxAge {
		_ = s.store.DeleteSession(r.Context(), hash)
		return User{}, "", ErrUnauthenticated
	}
	// Like Campfire, refresh last activity at most hourly: a write per
	// request would make every read a write.
	if now.Sub(sess.LastActiveAt) > hourly {
		if err := s.store.TouchSession(r.Context(), hash, now); err != nil && !errors.Is(err, ErrNotFound) {
			return User{}, "", err
		}
	}
	return u, sessionKey(hash), nil
}

const hourly = time.Hour

// sessionToken reads the token from the cookie, or from a bearer header for
// clients that are not browsers.
func sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	if c, err := r.Cookie(sessionCookieName); err == nil {
		return c.Value
	}
	return ""
}

// sessionKey names a session in the Hub without revealing its token.
func sessionKey(hash []byte) string { return fmt.Sprintf("%x", hash[:12]) }

type sessionKeyContextKey struct{}

func sessionKeyFromContext(ctx context.Context) string {
	k, _ := ctx.Value(sessionKeyContextKey{}).(string)
	return k
}

// hostUser provisions and returns the chat user for the host's identity.
func (s *Server) hostUser(r *http.Request) (User, error) {
	id, err := s.auth(r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return User{}, ErrUnauthenticated
		}
		return User{}, fmt.Errorf("campfire: Config.Authenticate: %w", err)
	}
	if id.ExternalID == "" {
		return User{}, ErrUnauthenticated
	}
	ctx := r.Context()
	role := RoleMember
	if id.Admin {
		role = RoleAdmin
	}
	u, err := s.store.UserByExternalID(ctx, id.ExternalID)
	if errors.Is(err, ErrNotFound) {
		name, nerr := normalizeUserName(id.Name)
		if nerr != nil {
			name = "user " + id.ExternalID
		}
		email, eerr := normalizeEmail(id.Email)
		if eerr != nil {
			email = ""
		}
		u, err = s.store.CreateUser(ctx, NewUser{Name: name, Email: email, Role: role, ExternalID: id.ExternalID})
		if errors.Is(err, ErrConflict) { // a concurrent first request made it
			u, err = s.store.UserByExternalID(ctx, id.ExternalID)
		}
	}
	if err != nil {
		return User{}, err
	}
	if !u.Active() {
		return User{}, ErrUnauthenticated
	}
	if u.Role != role && u.Role != RoleBot {
		u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{Role: &role})
	}
	return u, err
}

// builtinOnly refuses the built-in account endpoints when the host supplies identity.
func (s *Server) builtinOnly() error {
	if s.auth != nil {
		return NotFound("endpoint")
	}
	return nil
}

// startSession signs the user in on this browser.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u User) error {
	token, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	if err := s.store.CreateSession(r.Context(), Session{
		TokenHash: hash, UserID: u.ID, UserAgent: ua, IP: s.clientIP(r), CreatedAt: now, LastActiveAt: now,
	}); err != nil {
		return err
	}
	setSessionCookie(w, r, token, s.sessionMaxAge, s.secureCookies)
	if u.Email != "" {
		s.setDeviceCookie(w, r, u.Email)
	}
	return nil
}

func (s *Server) getFeatures(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"features": map[string]bool{
		"search":        !s.features.DisableSearch,
		"boosts":        !s.features.DisableBoosts,
		"builtin_auth":  s.auth == nil,
		"bots":          !s.features.DisableBots,
		"attachments":   false,
		"link_previews": false,
		"push":          false,
	}})
	return nil
}

func (s *Server) getSetup(w http.ResponseWriter, r *http.Request) error {
	if s.auth != nil {
		writeJSON(w, http.StatusOK, map[string]bool{"needed": false})
		return nil
	}
	_, err := s.store.Account(r.Context())
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"needed": err != nil})
	return nil
}

type credentialsRequest struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	Password    string `json:"password"`
	AccountName string `json:"account_name"`
}

// newAccountUser validates a sign-up and hashes its password.
func newAccountUser(req credentialsRequest, role Role) (NewUser, error) {
	name, err := normalizeUserName(req.Name)
	if err != nil {
		return NewUser{}, err
	}
	email, err := normalizeEmail(req.Email)
	if err != nil {
		return NewUser{}, err
	}
	if err := checkPassword(req.Password); err != nil {
		return NewUser{}, err
	}
	hash, err := HashPassword(req.Password)
	if err != nil {
		return NewUser{}, err
	}
	return NewUser{Name: name, Email: email, PasswordHash: hash, Role: role}, nil
}

func (s *Server) postSetup(w http.ResponseWriter, r *http.Request) error {
	if err := s.builtinOnly(); err != nil {
		return err
	}
	var req credentialsRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if _, err := s.store.Account(r.Context()); err == nil {
		return conflict("already set up")
	}
	accountName := "Campfire"
	if strings.TrimSpace(req.AccountName) != "" {
		n, err := normalizeName("account_name", req.AccountName, MaxRoomNameLength)
		if err != nil {
			return err
		}
		accountName = n
	}
	admin, err := newAccountUser(req, RoleAdmin)
	if err != nil {
		return err
	}
	code, err := newJoinCode()
	if err != nil {
		return err
	}
	_, u, _, err := s.store.Setup(r.Context(), Setup{AccountName: accountName, JoinCode: code, Admin: admin, RoomName: "All Talk"})
	if errors.Is(err, ErrConflict) {
		return conflict("already set up")
	}
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userFor(u, u)})
	return nil
}

func (s *Server) postSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.builtinOnly(); err != nil {
		return err
	}
	// Anyone may call this: their sizes are checked before anything of
	// them is kept, and the throttle keeps hashes of keys, not keys.
	var req credentialsRequest
	if err := decodeJSONUpTo(w, r, &req, maxLoginBody); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if len(email) > MaxEmailLength {
		return invalid("email", "must be at most %d bytes", MaxEmailLength)
	}
	if len(req.Password) > MaxPasswordLength {
		return invalid("password", "must be at most %d bytes", MaxPasswordLength)
	}
	if ok, wait := s.loginThrottle.allow(s.clientIP(r), email, s.knownDevice(r, email)); !ok {
		return &RateLimitError{RetryAfter: wait}
	}
	u, hash, err := s.store.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil || hash == "" {
		// Spend the same time as a real check, so that timing does not tell
		// which emails have accounts.
		CheckPassword(s.dummyHash(), req.Password)
		return ErrInvalidCredentials
	}
	ok, err := CheckPassword(hash, req.Password)
	if err != nil {
		return err
	}
	if !ok || !u.Active() {
		return ErrInvalidCredentials
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userFor(u, u)})
	return nil
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, u User) error {
	writeJSON(w, http.StatusOK, map[string]any{"user": userFor(u, u)})
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.builtinOnly(); err != nil {
		return err
	}
	token := sessionToken(r)
	if token == "" {
		return ErrUnauthenticated
	}
	hash := hashToken(token)
	if _, _, err := s.store.Session(r.Context(), hash); err != nil {
		if errors.Is(err, ErrNotFound) {
			clearSessionCookie(w, r, s.secureCookies)
			return ErrUnauthenticated
		}
		return err
	}
	if err := s.store.DeleteSession(r.Context(), hash); err != nil {
		return err
	}
	s.hub.EndSession(sessionKey(hash))
	clearSessionCookie(w, r, s.secureCookies)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postJoin(w http.ResponseWriter, r *http.Request) error {
	if err := s.builtinOnly(); err != nil {
		return err
	}
	if ok, wait := s.loginLimits.allow("join\x00" + s.clientIP(r)); !ok {
		return &RateLimitError{RetryAfter: wait}
	}
	acct, err := s.store.Account(r.Context())
	if errors.Is(err, ErrNotFound) {
		return NotFound("join code")
	}
	if err != nil {
		return err
	}
	code := normalizeJoinCode(r.PathValue("code"))
	if subtle.ConstantTimeCompare([]byte(code), []byte(acct.JoinCode)) != 1 {
		return NotFound("join code")
	}
	var req credentialsRequest
	if err := decodeJSONUpTo(w, r, &req, maxLoginBody); err != nil {
		return err
	}
	nu, err := newAccountUser(req, RoleMember)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(r.Context(), nu)
	if errors.Is(err, ErrConflict) {
		return conflict("an account with this email exists; sign in instead")
	}
	if err != nil {
		return err
	}
	s.announceNewMember(r.Context(), u)
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userFor(u, u)})
	return nil
}

// announceNewMember tells the user's first connections about the open rooms
// they joined; nothing else changes for the rooms' other members.
func (s *Server) announceNewMember(ctx context.Context, u User) {
	rooms, err := s.store.RoomsForUser(ctx, u.ID)
	if err != nil {
		s.logger.WarnContext(ctx, "campfire: listing a new user's rooms", "user_id", u.ID, "err", err)
		return
	}
	for _, rm := range rooms {
		s.hub.publishUserValue(u.ID, EventRoomAdded, rm.ID, rm)
	}
}

type accountJSON struct {
	Name     string          `json:"name"`
	JoinCode string          `json:"join_code,omitempty"`
	Settings AccountSettings `json:"settings"`
}

func accountFor(u User, a Account) accountJSON {
	j := accountJSON{Name: a.Name, Settings: a.Settings}
	if u.Role == RoleAdmin {
		j.JoinCode = a.JoinCode
	}
	return j
}

// account returns the account. Under host identity there is no setup, so
// the account is whatever an admin has saved, else the defaults.
func (s *Server) account(ctx context.Context) (Account, error) {
	a, err := s.store.Account(ctx)
	if errors.Is(err, ErrNotFound) && s.auth != nil {
		return Account{Name: "Campfire"}, nil
	}
	return a, err
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, u User) error {
	a, err := s.account(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountFor(u, a))
	return nil
}

func (s *Server) patchAccount(w http.ResponseWriter, r *http.Request, u User) error {
	if u.Role != RoleAdmin {
		return forbidden("only admins can change the account")
	}
	var req struct {
		Name     *string          `json:"name"`
		Settings *AccountSettings `json:"settings"`
	}
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	a, err := s.account(r.Context())
	if err != nil {
		return err
	}
	name, settings := a.Name, a.Settings
	if req.Name != nil {
		n, err := normalizeName("name", *req.Name, MaxRoomNameLength)
		if err != nil {
			return err
		}
		name = n
	}
	if req.Settings != nil {
		settings = *req.Settings
	}
	a, err = s.store.UpdateAccount(r.Context(), name, settings)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountFor(u, a))
	return nil
}

func (s *Server) postJoinCode(w http.ResponseWriter, r *http.Request, u User) error {
	if err := s.builtinOnly(); err != nil {
		return err
	}
	if u.Role != RoleAdmin {
		return forbidden("only admins can change the join code")
	}
	code, err := newJoinCode()
	if err != nil {
		return err
	}
	if err := s.store.SetJoinCode(r.Context(), code); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"join_code": code})
	return nil
}

// Limits on user listings: Campfire's autocomplete shows 20, its admin list 500.
const (
	defaultUserLimit = 100
	maxUserLimit     = 500
)

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request, u User) error {
	q := r.URL.Query()
	roomID, err := queryID(r, "room_id")
	if err != nil {
		return err
	}
	if roomID != 0 {
		if _, err := s.memberRoom(r.Context(), roomID, u); err != nil {
			return err
		}
	}
	limit := defaultUserLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUserLimit {
			return invalid("limit", "must be between 1 and %d", maxUserLimit)
		}
		limit = n
	}
	query := strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(query) > MaxNameLength {
		return invalid("q", "must be at most %d characters", MaxNameLength)
	}
	users, err := s.store.Users(r.Context(), UserQuery{
		Query: query, RoomID: roomID, Limit: limit,
		// Deactivated users are for admins to manage; others never pick them.
		ActiveOnly: u.Role != RoleAdmin || roomID != 0,
	})
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i, x := range users {
		out[i] = userFor(u, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// pathUser resolves {id}, accepting "me".
func (s *Server) pathUser(r *http.Request, caller User) (User, error) {
	if r.PathValue("id") == "me" {
		return caller, nil
	}
	id, err := pathID(r, "id", "user")
	if err != nil {
		return User{}, err
	}
	return s.store.User(r.Context(), id)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, u User) error {
	x, err := s.pathUser(r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userFor(u, x)})
	return nil
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request, u User) error {
	var req struct {
		Name     *string `json:"name"`
		Bio      *string `json:"bio"`
		Password *string `json:"password"`
		// CurrentPassword proves that whoever changes the password knows
		// it: a session alone (a cookie copied off a shared computer, a
		// token from a log) must not be enough to take the account over.
		CurrentPassword string `json:"current_password"`
	}
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	var upd UserUpdate
	if req.Name != nil {
		n, err := normalizeUserName(*req.Name)
		if err != nil {
			return err
		}
		upd.Name = &n
	}
	if req.Bio != nil {
		b, err := normalizeBio(*req.Bio)
		if err != nil {
			return err
		}
		upd.Bio = &b
	}
	if req.Password != nil {
		if s.auth != nil {
			return invalid("password", "is managed by the host application")
		}
		if err := checkPassword(*req.Password); err != nil {
			return err
		}
		if err := s.checkCurrentPassword(r.Context(), u, req.CurrentPassword); err != nil {
			return err
		}
		h, err := HashPassword(*req.Password)
		if err != nil {
			return err
		}
		upd.PasswordHash = &h
	}
	x, err := s.store.UpdateUser(r.Context(), u.ID, upd)
	if err != nil {
		return err
	}
	if upd.PasswordHash != nil {
		// A new password ends every session of the user: whoever knew the
		// old one is signed out, sockets too. This one ends as well, for
		// a copy of its cookie may be what the owner is locking out; the
		// browser gets a new token before the old one stops working, so
		// it never finds itself signed out.
		var current []byte
		if token := sessionToken(r); token != "" {
			current = hashToken(token)
		}
		removed, err := s.store.DeleteUserSessions(r.Context(), u.ID, current)
		if err != nil {
			return err
		}
		if current != nil {
			if err := s.startSession(w, r, x); err != nil {
				return err
			}
			if err := s.store.DeleteSession(r.Context(), current); err != nil {
				return err
			}
			removed = append(removed, current)
		}
		for _, h := range removed {
			s.hub.EndSession(sessionKey(h))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userFor(x, x)})
	return nil
}

// checkCurrentPassword verifies the password u signs in with. Tries are
// throttled per user like sign-ins, before argon2 runs, so that a stolen
// session can neither guess quickly nor burn the server's CPU. A user
// without a password (a bot) cannot prove one, so cannot set one here.
func (s *Server) checkCurrentPassword(ctx context.Context, u User, current string) error {
	if current == "" {
		return invalid("current_password", "is needed to change the password")
	}
	if ok, wait := s.loginLimits.allow("pwchange:" + strconv.FormatInt(u.ID, 10)); !ok {
		return &RateLimitError{RetryAfter: wait}
	}
	wrong := invalid("current_password", "is wrong")
	if len(current) > MaxPasswordLength || u.Email == "" {
		return wrong
	}
	x, hash, err := s.store.UserByEmail(ctx, u.Email)
	if errors.Is(err, ErrNotFound) {
		return wrong
	}
	if err != nil {
		return err
	}
	if x.ID != u.ID || hash == "" {
		return wrong
	}
	ok, err := CheckPassword(hash, current)
	if err != nil {
		return err
	}
	if !ok {
		return wrong
	}
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, u User) error {
	if u.Role != RoleAdmin {
		return forbidden("only admins can change other users")
	}
	x, err := s.pathUser(r, u)
	if err != nil {
		return err
	}
	var req struct {
		Role   *Role       `json:"role"`
		Status *UserStatus `json:"status"`
	}
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	var upd UserUpdate
	if req.Role != nil {
		if *req.Role != RoleAdmin && *req.Role != RoleMember {
			return invalid("role", "must be admin or member")
		}
		if x.Role == RoleBot {
			return invalid("role", "a bot's role cannot change")
		}
		upd.Role = req.Role
	}
	if req.Status != nil {
		if !req.Status.Valid() {
			return invalid("status", "must be active or deactivated")
		}
		upd.Status = req.Status
		if x.Role == RoleBot && *req.Status != x.Status {
			// A bot's key goes with a change of status, as with DELETE
			// /account/bots/{id}: a reactivated bot needs a new key.
			noKey := []byte{}
			upd.BotKeyHash = &noKey
		}
	}
	if x.ID == u.ID && (upd.Role != nil && *upd.Role != RoleAdmin || upd.Status != nil && *upd.Status != StatusActive) {
		return forbidden("admins cannot demote or deactivate themselves")
	}
	before, err := s.store.RoomsForUser(r.Context(), x.ID)
	if err != nil {
		return err
	}
	x, err = s.store.UpdateUser(r.Context(), x.ID, upd)
	if err != nil {
		return err
	}
	if !x.Active() {
		s.endUser(x.ID, before)
	}
	if err := s.announceMembershipChanges(r.Context(), x.ID, before); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userFor(u, x)})
	return nil
}

// announceMembershipChanges compares a user's rooms before a change with
// their rooms now, and tells their connections and the Hub.
func (s *Server) announceMembershipChanges(ctx context.Context, userID int64, before []RoomWithMembership) error {
	after, err := s.store.RoomsForUser(ctx, userID)
	if err != nil {
		return err
	}
	had := make(map[int64]bool, len(before))
	for _, rm := range before {
		had[rm.ID] = true
	}
	for _, rm := range after {
		if !had[rm.ID] {
			s.hub.publishUserValue(userID, EventRoomAdded, rm.ID, rm)
		}
		delete(had, rm.ID)
	}
	for roomID := range had {
		s.hub.LeaveRoom(roomID, userID)
		s.hub.publishUserValue(userID, EventRoomRemoved, roomID, IDData{ID: roomID})
	}
	return nil
}

// avatarColors are the backgrounds of initials avatars (Campfire uses 18).
var avatarColors = [...]string{
	"#AF2E1B", "#CC6324", "#3B4B23", "#5C5E2A", "#2D5B5C", "#1F4E79", "#274E13", "#5B3E8A",
	"#7C2F52", "#8A5A00", "#2F6F4F", "#3F3F7F", "#6B2F2F", "#4A6274", "#7A4E2D", "#365E8C",
	"#5E4B3C", "#2B6E6E",
}

// getAvatar draws the user's initials on a colour picked from their id, as
// SVG; the initials are escaped, so a name cannot inject markup.
func (s *Server) getAvatar(w http.ResponseWriter, r *http.Request, u User) error {
	x, err := s.pathUser(r, u)
	if err != nil {
		return err
	}
	color := avatarColors[crc32.ChecksumIEEE([]byte(strconv.FormatInt(x.ID, 10)))%uint32(len(avatarColors))]
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" fill="` + color +
		`"/><text x="50%" y="50%" dy=".35em" text-anchor="middle" fill="#fff" font-family="system-ui,sans-serif" font-size="200">` +
		html.EscapeString(initials(x.Name)) + `</text></svg>`
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "private, max-age=1800")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write([]byte(svg))
	return nil
}

// initials are the first letters of up to two words of name, upper-cased.
func initials(name string) string {
	var out []rune
	for _, word := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}
