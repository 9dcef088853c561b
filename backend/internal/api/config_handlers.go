package api

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/config"
)

const (
	defaultAuditLimit = 50
	maxActorLen       = 128
)

// GET /api/v1/config: the configuration, with its ETag for a later If-Match.
func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.store.Current()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "", "configuration is not loaded: "+s.store.Ready().Error())
		return
	}
	w.Header().Set("ETag", snap.ETag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, snap.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, snap.Config)
}

// PUT /api/v1/config: replace the whole configuration.
func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	cfg, err := config.DecodeJSON(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		writeRequestError(w, err)
		return
	}
	_, after, err := s.store.Update(match, func(c *config.Config) error {
		*c = cfg
		return nil
	}, s.journal(actorOfRequest(r), "config.replace"))
	s.writeUpdateResult(w, r, after, err)
}

// PATCH /api/v1/strategies/{name}: set "enabled" and/or merge "parameters" of one strategy.
// The ETag, as everywhere, is that of the whole configuration; the response is the whole
// configuration too.
func (s *Server) patchStrategy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	patch, err := config.DecodeStrategyPatch(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		writeRequestError(w, err)
		return
	}
	_, after, err := s.store.Update(match, func(c *config.Config) error {
		i := c.Strategy(name)
		if i < 0 {
			return config.ErrStrategyNotFound
		}
		patch.Apply(&c.Strategies[i])
		// Validated here too so that field names are relative to the patch body.
		return config.ValidateStrategy("", c.Strategies[i])
	}, s.journal(actorOfRequest(r), "strategy.update"))
	s.writeUpdateResult(w, r, after, err)
}

// GET /api/v1/audit?limit=N: the most recent changes, newest first.
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	limit := defaultAuditLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > audit.MaxLimit {
			writeError(w, http.StatusBadRequest, "limit", "must be an integer from 1 to "+strconv.Itoa(audit.MaxLimit))
			return
		}
		limit = n
	}
	entries, err := s.audit.Recent(limit)
	if err != nil {
		s.log.Error("reading audit log failed", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "", "could not read the audit log")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

// ifMatch reads the If-Match precondition; when it is absent it answers 428 and returns false.
func ifMatch(w http.ResponseWriter, r *http.Request) (func(etag string) bool, bool) {
	values := r.Header.Values("If-Match")
	header := strings.TrimSpace(strings.Join(values, ","))
	if header == "" {
		writeError(w, http.StatusPreconditionRequired, "", "If-Match header required: send the ETag from GET /api/v1/config")
		return nil, false
	}
	return func(etag string) bool { return etagListMatches(header, etag) }, true
}

// etagListMatches applies RFC 9110 strong comparison of current against a list of entity
// tags or "*". Weak tags never match. An unquoted tag is accepted as if quoted, since
// people copy ETags into curl without their quotes.
func etagListMatches(list, current string) bool {
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimSpace(tag)
		switch {
		case tag == "*":
			return true
		case strings.HasPrefix(tag, "W/"):
			continue
		case !strings.HasPrefix(tag, `"`):
			tag = `"` + tag + `"`
		}
		if tag == current {
			return true
		}
	}
	return false
}

// noteOf is what the client says about who it is: the X-Actor header, cleaned of control
// characters and capped in length. It is self-declared and recorded only beside the
// authenticated identity.
func noteOf(r *http.Request) string {
	actor := strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return -1
		}
		return c
	}, r.Header.Get("X-Actor"))
	actor = strings.TrimSpace(actor)
	if runes := []rune(actor); len(runes) > maxActorLen {
		actor = string(runes[:maxActorLen])
	}
	return actor
}
