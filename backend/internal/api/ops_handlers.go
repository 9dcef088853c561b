package api

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"traderadmin/backend/internal/buildinfo"
	"traderadmin/backend/internal/heartbeat"
	"traderadmin/backend/internal/validate"
)

// GET /healthz: liveness. No I/O: it fails only when the process can no longer serve at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// GET /readyz: readiness, as the server's own checks last found it (CheckReadiness, run on
// the server's schedule by WatchReadiness). A request only reads that state: anyone may call
// /readyz without a token, so it must not load files, write, or return internal error text.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	s.readyMu.RLock()
	reason, checked := s.notReadyReason, s.readyChecked
	s.readyMu.RUnlock()
	switch {
	case !checked:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "starting"})
	case reason != "":
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// CheckReadiness loads the configuration if it is not loaded yet and probes that the data
// directory really accepts durable writes; the result is what /readyz answers until the next
// check. The details (paths, parser text) go to the log only, once per change.
func (s *Server) CheckReadiness() {
	reason, detail := "", ""
	if err := s.LoadConfig(); err != nil {
		reason, detail = "configuration not loaded", err.Error()
	} else if err := s.probe(s.store.Dir()); err != nil {
		reason, detail = "data directory not writable", err.Error()
	}
	s.readyMu.Lock()
	changed := !s.readyChecked || reason != s.notReadyReason || detail != s.notReadyDetail
	s.notReadyReason, s.notReadyDetail, s.readyChecked = reason, detail, true
	s.readyMu.Unlock()
	if changed && reason != "" {
		s.log.Warn("not ready", "reason", reason, "detail", detail)
	} else if changed {
		s.log.Info("ready")
	}
}

// WatchReadiness runs CheckReadiness every interval until ctx ends.
func (s *Server) WatchReadiness(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.CheckReadiness()
		}
	}
}

// ProbeWritable creates, writes, fsyncs and removes a small file in dir. Checking permission
// bits is not enough: root ignores them, while a read-only or full volume refuses writes.
func ProbeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".readyz-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, werr := fmt.Fprintf(f, "readiness probe %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	if werr == nil {
		werr = f.Sync()
	}
	cerr := f.Close()
	rerr := os.Remove(name)
	for _, err := range []error{werr, cerr, rerr} {
		if err != nil {
			return err
		}
	}
	return nil
}

// GET /version
func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, buildinfo.Get())
}

// POST /api/v1/heartbeat: the orchestrator reports. Unknown fields are ignored so that a newer
// orchestrator can add some without breaking an older backend.
func (s *Server) postHeartbeat(w http.ResponseWriter, r *http.Request) {
	var hb heartbeat.Heartbeat
	if err := validate.DecodeJSON(http.MaxBytesReader(w, r.Body, s.maxBody), &hb, "", true); err != nil {
		writeRequestError(w, err)
		return
	}
	if err := hb.Validate(); err != nil {
		writeRequestError(w, err)
		return
	}
	at := s.heartbeats.Record(hb)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "received_at": at})
}

// GET /api/v1/status: the last heartbeat and whether it is fresh.
func (s *Server) getStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.heartbeats.Status())
}
