package backend

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors an *APIError matches with errors.Is, one per status the
// UI treats specially.
var (
	ErrUnauthorized         = errors.New("unauthorized")          // 401
	ErrConflict             = errors.New("precondition failed")   // 412: stale ETag
	ErrPreconditionRequired = errors.New("precondition required") // 428: no If-Match
	ErrInvalid              = errors.New("invalid request")       // 400
	ErrNotFound             = errors.New("not found")             // 404
)

// APIError is a non-2xx answer from the backend.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Message    string // the "error" member of the JSON body, or the raw body
	Field      string // the "field" member of a 400 body
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// Is lets errors.Is(err, ErrConflict) and friends match by status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrConflict:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrPreconditionRequired:
		return e.StatusCode == http.StatusPreconditionRequired
	case ErrInvalid:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// TransportError means no HTTP answer arrived: connection refused, timeout,
// DNS failure, or a body that was not the expected JSON.
type TransportError struct {
	URL string
	Err error
}

func (e *TransportError) Error() string { return fmt.Sprintf("%s: %v", e.URL, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// Problem is an error as the UI shows it: a kind the UI styles by, and a
// sentence that says what happened and what to do next.
type Problem struct {
	Kind    string `json:"kind"` // unauthorized | conflict | precondition-required | invalid | unreachable | server
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Status  int    `json:"status,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Describe turns an error from Client into a Problem. tokenSet says whether
// a token is configured, so a 401 can say "missing" or "wrong"; configPath is
// where the user should put it ("" when no config file was found).
func Describe(err error, tokenSet bool, configPath string) *Problem {
	if err == nil {
		return nil
	}
	p := &Problem{Kind: "server", Message: err.Error(), Detail: err.Error()}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		p.Status = apiErr.StatusCode
		p.Field = apiErr.Field
	}
	where := "config.toml"
	if configPath != "" {
		where = configPath
	}
	var transport *TransportError
	switch {
	case errors.Is(err, ErrUnauthorized) && tokenSet:
		p.Kind = "unauthorized"
		p.Message = fmt.Sprintf("The backend rejected the token (401) — check \"token\" in %s, then press Reload settings.", where)
	case errors.Is(err, ErrUnauthorized):
		p.Kind = "unauthorized"
		p.Message = fmt.Sprintf("Saving needs a token and none is configured (401) — set \"token\" in %s, then press Reload settings.", where)
	case errors.Is(err, ErrConflict):
		p.Kind = "conflict"
		p.Message = "The configuration was changed by someone else since you loaded it (412) — reload, then re-apply your edits."
	case errors.Is(err, ErrPreconditionRequired):
		p.Kind = "precondition-required"
		p.Message = "The backend needs the version you edited (428, missing If-Match) — reload the configuration, then save again."
	case errors.Is(err, ErrInvalid):
		p.Kind = "invalid"
		p.Message = "The backend refused a value (400): " + apiErr.Message
		if apiErr.Field != "" {
			p.Message = fmt.Sprintf("The backend refused %s (400): %s", apiErr.Field, apiErr.Message)
		}
	case errors.As(err, &transport):
		p.Kind = "unreachable"
		p.Message = fmt.Sprintf("Backend not reachable at %s — is it running? (%v)", transport.URL, transport.Err)
	}
	return p
}
