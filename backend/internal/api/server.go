// Package api serves TraderAdmin's REST API over net/http.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/auth"
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
	// Keyring authenticates requests; nil (or no tokens) refuses every API request with 401.
	Keyring *auth.Keyring
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
	keyring    *auth.Keyring
	probe      func(dir string) error
	maxBody    int64

	reconcileMu sync.Mutex
	reconciled  bool

	// What the last CheckReadiness found: "" when ready; the detail is for the log only.
	readyMu        sync.RWMutex
	readyChecked   bool
	notReadyReason string
	notReadyDetail string
}

// New returns a Server; it does not load the configuration (see LoadConfig).
func New(o Options) *Server {
	s := &Server{
		store:      o.Store,
		audit:      o.Audit,
		heartbeats: o.Heartbeats,
		log:        o.Logger,
		keyring:    o.Keyring,
		probe:      o.ProbeWritable,
		maxBody:    o.MaxBodyBytes,
	}
	if s.audit == nil {
		// Every change is journalled; there is no mode without an audit log.
		s.audit = audit.New(s.store.Dir())
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

	admin, orchestrator := auth.RoleAdmin, auth.RoleOrchestrator
	mux.HandleFunc("GET /api/v1/config", s.allow(s.getConfig, admin, orchestrator))
	mux.HandleFunc("PUT /api/v1/config", s.allow(s.putConfig, admin))
	mux.HandleFunc("PATCH /api/v1/strategies/{name}", s.allow(s.patchStrategy, admin))
	mux.HandleFunc("GET /api/v1/audit", s.allow(s.getAudit, admin))
	mux.HandleFunc("POST /api/v1/heartbeat", s.allow(s.postHeartbeat, orchestrator))
	mux.HandleFunc("GET /api/v1/status", s.allow(s.getStatus, admin, orchestrator))
	return s.logRequests(s.recoverPanics(mux))
}

// LoadConfig loads the configuration if it is not loaded yet (recording in the audit log when
// a default had to be written) and resolves the audit intents a crash left pending against
// what is on disk. Startup calls it, and so does every readiness probe until it succeeds, so
// a repaired file or volume is picked up without a restart.
func (s *Server) LoadConfig() error {
	created, err := s.store.EnsureLoaded(s.journal(auditActor{actor: "system"}, "config.init"))
	if err != nil {
		return err
	}
	if created {
		snap, _ := s.store.Current()
		s.log.Info("wrote default configuration", "path", s.store.Path(), "etag", snap.ETag)
	}
	return s.reconcile()
}

// reconcile runs audit.Reconcile once per process, after the configuration is loaded.
func (s *Server) reconcile() error {
	s.reconcileMu.Lock()
	defer s.reconcileMu.Unlock()
	if s.reconciled {
		return nil
	}
	snap, ok := s.store.Current()
	if !ok {
		return s.store.Ready()
	}
	resolved, err := s.audit.Reconcile(snap.ETag)
	if err != nil {
		return fmt.Errorf("reconcile the audit log with config.toml: %w", err)
	}
	if len(resolved) > 0 {
		s.log.Warn("resolved audit intents left pending by an earlier process", "ids", resolved)
	}
	s.reconciled = true
	return nil
}
