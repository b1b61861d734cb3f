package campfire

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Sentinel errors. Stores and the engine wrap them with %w; [writeError] maps
// them to an HTTP status and a JSON error code in one place.
var (
	// ErrNotFound: the thing does not exist, or the caller may not know it
	// exists (a room they are not in, a message of such a room).
	ErrNotFound = errors.New("campfire: not found")
	// ErrConflict: the change contradicts what is stored (setup twice, an
	// email already taken).
	ErrConflict = errors.New("campfire: conflict")
	// ErrForbidden: signed in, but not allowed to do this.
	ErrForbidden = errors.New("campfire: forbidden")
	// ErrUnauthenticated: no valid session, host identity or bot key.
	ErrUnauthenticated = errors.New("campfire: unauthenticated")
	// ErrInvalidCredentials: wrong email or password (the same for both).
	ErrInvalidCredentials = errors.New("campfire: invalid email or password")
	// ErrInvalid: validation failed; see [ValidationError] for the field.
	ErrInvalid = errors.New("campfire: invalid")
	// ErrRateLimited: too many attempts; see [RateLimitError] for when to retry.
	ErrRateLimited = errors.New("campfire: rate limited")
	// ErrFeatureDisabled: the host switched this feature off.
	ErrFeatureDisabled = errors.New("campfire: feature disabled")
	// ErrResync: the events after a cursor are no longer kept; the client
	// must reload the room.
	ErrResync = errors.New("campfire: resync needed")
)

// ValidationError reports which field of a request failed validation.
// It matches [ErrInvalid] with errors.Is.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string        { return "campfire: invalid " + e.Field + ": " + e.Message }
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// invalid returns a *ValidationError for field.
func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// RateLimitError says how long to wait. It matches [ErrRateLimited].
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string        { return "campfire: rate limited" }
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// FeatureError names the feature the host switched off. It matches
// [ErrFeatureDisabled].
type FeatureError struct{ Feature string }

func (e *FeatureError) Error() string        { return "campfire: feature " + e.Feature + " is disabled" }
func (e *FeatureError) Is(target error) bool { return target == ErrFeatureDisabled }

// httpError is an error raised by the HTTP layer itself (bad JSON, wrong
// content type, body too large).
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

var (
	errUnsupportedMediaType = &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "request body must be application/json"}
	errTooLarge             = &httpError{http.StatusRequestEntityTooLarge, "too_large", "request body is too large"}
)

func errInvalidJSON(detail string) error {
	return &httpError{http.StatusBadRequest, "invalid_json", "request body is not valid JSON: " + detail}
}

// ErrorBody is the JSON shape of every error answer:
// {"error": {"code": ..., "message": ..., "field": ...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of [ErrorBody].
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// errorStatus maps err to its HTTP status and JSON detail. Unknown errors
// become a generic 500 and report false so that the caller logs them.
func errorStatus(err error) (int, ErrorDetail, bool) {
	var (
		he *httpError
		ve *ValidationError
		fe *FeatureError
	)
	switch {
	case errors.As(err, &he):
		return he.status, ErrorDetail{Code: he.code, Message: he.message}, true
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, ErrorDetail{Code: "invalid", Message: ve.Field + " " + ve.Message, Field: ve.Field}, true
	case errors.As(err, &fe):
		return http.StatusNotImplemented, ErrorDetail{Code: "feature_disabled", Message: fe.Feature + " is turned off on this server"}, true
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, ErrorDetail{Code: "not_found", Message: notFoundMessage(err)}, true
	case errors.Is(err, ErrInvalidCredentials):
		return http.StatusUnauthorized, ErrorDetail{Code: "invalid_credentials", Message: "wrong email or password"}, true
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized, ErrorDetail{Code: "unauthenticated", Message: "sign in first"}, true
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, ErrorDetail{Code: "forbidden", Message: detailMessage(err, "you are not allowed to do that")}, true
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, ErrorDetail{Code: "conflict", Message: detailMessage(err, "conflicts with what is stored")}, true
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests, ErrorDetail{Code: "rate_limited", Message: "too many requests; try again later"}, true
	case errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable, ErrorDetail{Code: "unavailable", Message: "the server is shutting down"}, true
	case errors.Is(err, ErrInvalid):
		return http.StatusUnprocessableEntity, ErrorDetail{Code: "invalid", Message: detailMessage(err, "invalid request")}, true
	}
	return http.StatusInternalServerError, ErrorDetail{Code: "internal", Message: "internal error"}, false
}

// notFoundMessage keeps "not found" answers free of detail that would tell a
// stranger more than that.
func notFoundMessage(err error) string {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nf.what + " not found"
	}
	return "not found"
}

// notFoundError names what was not found; it matches [ErrNotFound].
type notFoundError struct{ what string }

func (e *notFoundError) Error() string        { return "campfire: " + e.what + " not found" }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFound returns an error matching [ErrNotFound] that names what was missing
// ("room", "message"): the name reaches the client, nothing else does.
func NotFound(what string) error { return &notFoundError{what: what} }

// Forbidden returns an error matching [ErrForbidden] whose message, fit for
// the client, says what was refused.
func Forbidden(message string) error { return forbidden(message) }

// detailMessage returns the text after the sentinel when err was built with
// fmt.Errorf("%w: detail", sentinel), else fallback.
func detailMessage(err error, fallback string) string {
	var d *detailError
	if errors.As(err, &d) {
		return d.message
	}
	return fallback
}

// detailError carries a message fit for the client beside its sentinel.
type detailError struct {
	sentinel error
	message  string
}

func (e *detailError) Error() string        { return e.sentinel.Error() + ": " + e.message }
func (e *detailError) Unwrap() error        { return e.sentinel }
func forbidden(message string) error        { return &detailError{ErrForbidden, message} }
func conflict(message string) error         { return &detailError{ErrConflict, message} }
func (e *detailError) Is(target error) bool { return target == e.sentinel }

// WriteError answers err in the protocol's JSON error shape, with the status
// its sentinel maps to; an unknown error is logged and answered as a generic
// 500. Transports use it for what they refuse before streaming.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, s.logger, err)
}

// writeError answers err in the protocol's JSON error shape.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status, detail, known := errorStatus(err)
	if !known {
		logger.ErrorContext(r.Context(), "campfire: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		secs := int(rl.RetryAfter.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeJSON(w, status, ErrorBody{Error: detail})
}

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeRawJSON(w, status, append(b, '\n'))
}

// writeRawJSON writes b, JSON already, ending in a newline. Answers echo
// what people wrote; nosniff keeps a browser from taking one for HTML or
// script whatever it contains.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}
