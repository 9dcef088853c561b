package api

import (
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

// GET /readyz: readiness. Ready means the configuration is loaded and the data directory
// really accepts durable writes.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.LoadConfig(); err != nil {
		s.notReady(w, "configuration not loaded: "+err.Error())
		return
	}
	if err := s.probe(s.store.Dir()); err != nil {
		s.notReady(w, "data directory not writable: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) notReady(w http.ResponseWriter, reason string) {
	s.log.Warn("not ready", "reason", reason)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
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
