package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"traderadmin/backend/internal/config"
	"traderadmin/backend/internal/validate"
)

// errorBody is every error response: {"error": "...", "field": "strategies[1].symbol"}.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep "->" in audit summaries readable; this is not HTML
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Field: field})
}

// writeRequestError answers a body that could not be decoded or validated.
func writeRequestError(w http.ResponseWriter, err error) {
	var ve *validate.Error
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, ve.Field, ve.Message)
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "", "request body is larger than the limit")
	default:
		writeError(w, http.StatusBadRequest, "", err.Error())
	}
}

// writeUpdateError answers a failed config.Store.Update.
func (s *Server) writeUpdateError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *validate.Error
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, ve.Field, ve.Message)
	case errors.Is(err, config.ErrPreconditionFailed):
		writeError(w, http.StatusPreconditionFailed, "", err.Error())
	case errors.Is(err, config.ErrStrategyNotFound):
		writeError(w, http.StatusNotFound, "", "no strategy named "+quote(r.PathValue("name")))
	case errors.Is(err, config.ErrNotLoaded):
		writeError(w, http.StatusServiceUnavailable, "", "configuration is not loaded: "+s.store.Ready().Error())
	default:
		s.log.Error("saving configuration failed", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "", "could not save the configuration; the previous configuration stays in force")
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
