// Package api serves TraderAdmin's REST API over net/http.
package api

import (
	"crypto/sha256"
	"log/slog"
	"net/http"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/config"
	"traderadmin/backend/internal/heartbeat"
)

// DefaultMaxBodyBytes bounds request bodies; a configuration is a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// Options are the server's dependencies.
type Options struct {
	Store      *config.Store
	Audit      *audit.Log
	Heartbeats *heartbeat.Tracker
	Logger     *slog.Logger
	// Token is the bearer token mutating requests must present. Empty refuses them all.
	Token string
	// ProbeWritable reports whether the data directory accepts durable writes.
	// Nil means ProbeWritable (the real probe); tests substitute failures.
	ProbeWritable func(dir string) error
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Server holds the handlers' state.
type Server struct {
	store      *config.Store
	audit      *audit.Log
	heartbeats *heartbeat.Tracker
	log        *slog.Logger
	tokenHash  *[sha256.Size]byte // nil when no token is configured
	probe      func(dir string) error
	maxBody    int64
}

// New returns a Server; it does not load the configuration (see LoadConfig).
func New(o Options) *Server {
	s := &Server{
		store:      o.Store,
		audit:      o.Audit,
		heartbeats: o.Heartbeats,
		log:        o.Logger,
		probe:      o.ProbeWritable,
		maxBody:    o.MaxBodyBytes,
	}
	if o.Token != "" {
		h := sha256.Sum256([]byte(o.Token))
		s.tokenHash = &h
	}
	if s.heartbeats == nil {
		s.heartbeats = heartbeat.NewTracker(nil)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.probe == nil {
		s.probe = ProbeWritable
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	return s
}

// Handler returns the routed handler wrapped in request logging and panic recovery.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /version", s.version)

	mux.HandleFunc("GET /api/v1/config", s.getConfig)
	mux.HandleFunc("PUT /api/v1/config", s.requireToken(s.putConfig))
	mux.HandleFunc("PATCH /api/v1/strategies/{name}", s.requireToken(s.patchStrategy))
	mux.HandleFunc("GET /api/v1/audit", s.getAudit)
	mux.HandleFunc("POST /api/v1/heartbeat", s.requireToken(s.postHeartbeat))
	mux.HandleFunc("GET /api/v1/status", s.getStatus)
	return s.logRequests(s.recoverPanics(mux))
}

// LoadConfig loads the configuration if it is not loaded yet and records in the audit log
// when a default had to be written. Startup calls it, and so does every readiness probe
// until it succeeds, so a repaired file or volume is picked up without a restart.
func (s *Server) LoadConfig() error {
	created, err := s.store.EnsureLoaded()
	if err != nil {
		return err
	}
	if created {
		snap, _ := s.store.Current()
		s.log.Info("wrote default configuration", "path", s.store.Path(), "etag", snap.ETag)
		s.record(audit.Entry{Actor: "system", Action: "config.init", Summary: "wrote default configuration", ETag: snap.ETag})
	}
	return nil
}

// AuthEnabled reports whether a token is configured (mutations possible at all).
func (s *Server) AuthEnabled() bool { return s.tokenHash != nil }
