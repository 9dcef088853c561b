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

// writeUpdateResult answers a config.Store.Update: the new configuration, or the error. Every
// answer says what is in force and in config.toml, which is what a restarted process loads.
func (s *Server) writeUpdateResult(w http.ResponseWriter, r *http.Request, after config.Snapshot, err error) {
	var ve *validate.Error
	switch {
	case err == nil:
		w.Header().Set("ETag", after.ETag)
		writeJSON(w, http.StatusOK, after.Config)
	case errors.Is(err, config.ErrNotDurable):
		// The rename happened: the new file is in force and is what the next start reads.
		// Only its survival of a power loss is unconfirmed, and the client must know that.
		s.log.Error("configuration saved but the directory fsync failed", "error", err.Error(), "etag", after.ETag)
		w.Header().Set("ETag", after.ETag)
		writeJSON(w, http.StatusInternalServerError, map[string]any{
			"error": "the new configuration is saved and in force (ETag " + after.ETag + "), but the data directory " +
				"could not be synced: a power loss before the next sync may bring the previous configuration back",
			"committed": true,
			"etag":      after.ETag,
		})
	case errors.Is(err, config.ErrNotAudited):
		s.log.Error("configuration change refused: audit log not writable", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]any{
			"error":     "the change could not be recorded in the audit log, so it was not made; the previous configuration stays in force",
			"committed": false,
		})
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
		writeJSON(w, http.StatusInternalServerError, map[string]any{
			"error":     "could not save the configuration; the previous configuration stays in force",
			"committed": false,
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
