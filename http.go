package campfire

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// apiPrefix is where the API lives under the server's mount point.
const apiPrefix = "/api/v1"

// handlerFunc is an API handler: it returns an error instead of writing one,
// so that errors are mapped in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// authedFunc is a handler for signed-in users.
type authedFunc func(w http.ResponseWriter, r *http.Request, u User) error

func (s *Server) routes(transports []Transport) *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+apiPrefix+path, s.serve(h))
	}
	authed := func(pattern string, h authedFunc) {
		handle(pattern, s.signedIn(h))
	}
	// Every write a person can repeat takes from one of their limits
	// (see Limits); posts take theirs in the handler, after validation.
	lim := s.writeLimits

	handle("GET /features", s.getFeatures)
	handle("GET /setup", s.getSetup)
	handle("POST /setup", s.postSetup)
	handle("POST /session", s.postSession)
	handle("GET /session", s.signedIn(s.getSession))
	handle("DELETE /session", s.deleteSession)
	handle("POST /join/{code}", s.postJoin)

	authed("GET /account", s.getAccount)
	authed("PATCH /account", limit(lim.admin, s.patchAccount))
	authed("POST /account/join_code", limit(lim.admin, s.postJoinCode))
	authed("GET /account/bots", s.getBots)
	authed("POST /account/bots", limit(lim.admin, s.postBot))
	authed("PATCH /account/bots/{id}", limit(lim.admin, s.patchBot))
	authed("POST /account/bots/{id}/key", limit(lim.admin, s.postBotKey))
	authed("DELETE /account/bots/{id}", limit(lim.admin, s.deleteBot))

	authed("GET /users", s.getUsers)
	authed("GET /users/{id}", s.getUser)
	authed("GET /users/{id}/avatar", s.getAvatar)
	authed("PATCH /users/me", limit(lim.profile, s.patchMe))
	authed("PATCH /users/{id}", limit(lim.admin, s.patchUser))

	authed("GET /rooms", s.getRooms)
	authed("POST /rooms", limit(lim.rooms, s.postRoom))
	authed("GET /rooms/{id}", s.getRoom)
	authed("PATCH /rooms/{id}", limit(lim.rooms, s.patchRoom))
	authed("DELETE /rooms/{id}", limit(lim.rooms, s.deleteRoom))
	authed("PUT /rooms/{id}/involvement", limit(lim.marks, s.putInvolvement))
	authed("POST /rooms/{id}/read", limit(lim.marks, s.postRead))
	authed("POST /rooms/{id}/typing", limit(lim.marks, s.postTyping))
	authed("POST /rooms/{id}/presence", limit(lim.marks, s.postPresence))
	authed("GET /rooms/{id}/events", s.getEvents)

	authed("GET /rooms/{id}/messages", s.getMessages)
	authed("POST /rooms/{id}/messages", s.postMessage)
	authed("PATCH /rooms/{id}/messages/{mid}", limit(lim.edits, s.patchMessage))
	authed("DELETE /rooms/{id}/messages/{mid}", limit(lim.edits, s.deleteMessage))
	authed("POST /rooms/{id}/messages/{mid}/boosts", s.postBoost)
	authed("DELETE /rooms/{id}/messages/{mid}/boosts/{bid}", limit(lim.edits, s.deleteBoost))

	authed("GET /search", s.getSearch)

	// Bots authenticate by the key in the path, never by a session. They
	// are not browsers, and the key is no cookie that another site could
	// ride on: their unsafe requests skip the cross-origin check.
	bot := func(pattern string, h authedFunc) {
		handle(pattern, s.asBot(h))
		if method, path, _ := strings.Cut(pattern, " "); method != http.MethodGet {
			s.crossOrigin.AddInsecureBypassPattern(method + " " + apiPrefix + path)
		}
	}
	bot("POST "+botMessagesPath, s.postBotMessage)
	bot("GET "+botMessagesPath, s.getMessages)
	bot("PATCH "+botMessagesPath+"/{mid}", limit(lim.edits, s.patchBotMessage))
	bot("DELETE "+botMessagesPath+"/{mid}", limit(lim.edits, s.deleteMessage))
	bot("POST "+botMessagesPath+"/{mid}/boosts", s.postBotBoost)
	bot("DELETE "+botMessagesPath+"/{mid}/boosts/{bid}", limit(lim.edits, s.deleteBoost))

	for _, t := range transports {
		for pattern, h := range t.Routes(s) {
			method, path, _ := strings.Cut(pattern, " ")
			mux.Handle(method+" "+apiPrefix+path, s.guardTransport(h))
		}
	}
	return mux
}

// serve adapts h: cross-origin protection for unsafe methods, a bound on
// the time the body takes to arrive, then errors written in the protocol's
// shape.
func (s *Server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossOrigin.Check(r); err != nil {
			writeError(w, r, s.logger, forbidden("cross-origin request refused"))
			return
		}
		s.boundBodyRead(w, r)
		if err := h(w, r); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) { // a body read past the bound
				err = errBodyTimeout
			}
			writeError(w, r, s.logger, err)
		}
	})
}

// guardTransport applies the same cross-origin rule to a transport's
// handlers. GET requests pass CrossOriginProtection by design, so WebSocket
// upgrades are checked by the transport itself against the same origins
// (see [Server.CheckOrigin]).
func (s *Server) guardTransport(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossOrigin.Check(r); err != nil {
			writeError(w, r, s.logger, forbidden("cross-origin request refused"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CheckOrigin applies the cross-origin rule of unsafe requests to r,
// whatever its method: nil for the server's own pages, for clients that
// are not browsers and for [Config.TrustedOrigins], else an error.
// Transports call it at a WebSocket upgrade, a GET, which the rule
// otherwise lets through.
func (s *Server) CheckOrigin(r *http.Request) error {
	probe := r.WithContext(r.Context()) // a shallow copy
	probe.Method = http.MethodPost
	return s.crossOrigin.Check(probe)
}

// signedIn authenticates the request and passes the user to h.
func (s *Server) signedIn(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, key, err := s.authenticate(r)
		if err != nil {
			return err
		}
		ctx := context.WithValue(contextWithUser(r.Context(), u), sessionKeyContextKey{}, key)
		return h(w, r.WithContext(ctx), u)
	}
}

// jsonMuxError turns the mux's plain-text 404 and 405 answers into the
// protocol's JSON error shape.
func jsonMuxError(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&muxErrorWriter{ResponseWriter: w}, r)
	})
}

type muxErrorWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *muxErrorWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	detail := ErrorDetail{Code: "not_found", Message: "no such endpoint"}
	if status == http.StatusMethodNotAllowed {
		detail = ErrorDetail{Code: "method_not_allowed", Message: "method not allowed on this endpoint"}
	}
	w.Header().Del("X-Content-Type-Options")
	writeJSON(w.ResponseWriter, status, ErrorBody{Error: detail})
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusNotFound)
	}
	return len(b), nil // the mux's own text is replaced by the JSON above
}

// decodeJSON reads the request body as JSON into v. It requires the JSON
// content type, caps the size, and refuses trailing data.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONUpTo(w, r, v, s.maxBody)
}

// decodeJSONUpTo is decodeJSON with a size cap of its own.
func decodeJSONUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errUnsupportedMediaType
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errBodyTimeout
		}
		if errors.Is(err, io.EOF) {
			return errInvalidJSON("empty body")
		}
		return errInvalidJSON(jsonErrorDetail(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errBodyTimeout
		}
		return errInvalidJSON("unexpected data after the JSON value")
	}
	return nil
}

// jsonErrorDetail describes a decoding error without echoing the input.
func jsonErrorDetail(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return te.Field + " must be " + jsonTypeName(te.Type.Kind().String())
		}
		return "expected " + jsonTypeName(te.Type.Kind().String())
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed"
}

func jsonTypeName(kind string) string {
	switch kind {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "ptr":
		return "a value of the right type"
	}
	return "a number"
}

// pathID parses the path value name as a positive id. A malformed id names
// nothing, so it is answered like a missing one.
func pathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound(what)
	}
	return id, nil
}

// queryID parses an optional id query parameter; 0 when absent.
func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, invalid(name, "must be a non-negative integer")
	}
	return id, nil
}
