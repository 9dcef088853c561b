package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"traderadmin/backend/internal/auth"
)

type identityKey struct{}

// allow lets a request through only with "Authorization: Bearer <token>" of one of roles:
// 401 without a valid token, 403 with a valid token of another role. The handler finds the
// identity with identityOf.
func (s *Server) allow(next http.HandlerFunc, roles ...auth.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.keyring == nil || len(s.keyring.Summary()) == 0 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="traderadmin"`)
			writeError(w, http.StatusUnauthorized, "", "no API tokens are configured on the server (BACKEND_ADMIN_TOKEN_FILE, BACKEND_ORCHESTRATOR_TOKEN_FILE), so the API is closed")
			return
		}
		id, ok := s.keyring.Authenticate(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="traderadmin"`)
			writeError(w, http.StatusUnauthorized, "", "missing or invalid bearer token")
			return
		}
		if !slices.Contains(roles, id.Role) {
			names := make([]string, len(roles))
			for i, role := range roles {
				names[i] = string(role)
			}
			writeError(w, http.StatusForbidden, "", fmt.Sprintf("the %s credential may not %s %s (allowed: %s)",
				id.Role, r.Method, r.URL.Path, strings.Join(names, ", ")))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	}
}

// identityOf is the identity allow authenticated.
func identityOf(r *http.Request) auth.Identity {
	id, _ := r.Context().Value(identityKey{}).(auth.Identity)
	return id
}

// statusRecorder remembers the status and size of a response for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests writes one log line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// recoverPanics turns a handler panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, "", "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}
