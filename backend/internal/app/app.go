package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"traderadmin/backend/internal/api"
	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/auth"
	"traderadmin/backend/internal/buildinfo"
	"traderadmin/backend/internal/config"
	"traderadmin/backend/internal/heartbeat"
)

// minTokenLen is the length below which a token is accepted but warned about.
const minTokenLen = 16

// Main runs the backend and returns the process exit status: 0 after a clean shutdown (or
// -version/-h), 2 for bad flags or environment, 1 when serving fails.
func Main(args []string, stdout, stderr io.Writer) int {
	opts, err := ParseOptions(args, os.LookupEnv, os.ReadFile, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "traderadmin-backend: %v\n", err)
		return 2
	}
	if opts.ShowVersion {
		fmt.Fprintln(stdout, buildinfo.Get())
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		// After the first signal, restore default handling so that a second one kills at once.
		<-ctx.Done()
		stop()
	}()

	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	if err := Run(ctx, opts, logger, nil); err != nil {
		logger.Error("backend failed", "error", err.Error())
		return 1
	}
	return 0
}

// Run serves until ctx is cancelled, then drains in-flight requests for at most
// opts.ShutdownTimeout. When listening is non-nil it receives the bound address.
func Run(ctx context.Context, opts Options, logger *slog.Logger, listening chan<- net.Addr) error {
	info := buildinfo.Get()
	logger.Info("starting traderadmin-backend", "version", info.Version, "commit", info.Commit, "go", info.GoVersion,
		"listen", opts.Listen, "data_dir", opts.DataDir)

	keyring, err := auth.NewKeyring(opts.Tokens, logger)
	if err != nil {
		return fmt.Errorf("load API tokens: %w", err)
	}
	for _, role := range auth.Roles {
		src, ok := opts.Tokens[role]
		if !ok {
			logger.Warn("no API tokens for the "+string(role)+" role: requests needing it get 401", "role", string(role))
			continue
		}
		logger.Info("API tokens loaded", "role", string(role), "source", src.Describe, "tokens", keyring.Summary()[role])
	}
	for _, t := range allTokens(opts.Tokens) {
		if len(t) < minTokenLen {
			logger.Warn("an API token is short; use at least 16 random characters", "fingerprint", auth.Fingerprint(t))
		}
	}
	if src, ok := opts.Tokens[auth.RoleAdmin]; ok && strings.HasPrefix(src.Describe, EnvToken) {
		logger.Warn(EnvToken + "/" + EnvTokenFile + " are older names for the admin role's tokens; use " +
			EnvAdminToken + "/" + EnvAdminTokenFile + " and give the orchestrator its own token")
	}

	auditLog := audit.New(opts.DataDir)
	defer auditLog.Close()
	srv := api.New(api.Options{
		Store:      config.NewStore(opts.DataDir),
		Audit:      auditLog,
		Heartbeats: heartbeat.NewTracker(nil),
		Logger:     logger,
		Keyring:    keyring,
	})
	// A configuration that cannot be loaded does not stop the process: it serves /healthz,
	// reports not-ready, and tries again on its own schedule (never because of a request).
	if err := srv.LoadConfig(); err != nil {
		logger.Error("configuration not loaded; serving as not ready until it is", "error", err.Error())
	} else {
		logger.Info("configuration loaded", "path", filepath.Join(opts.DataDir, config.FileName))
	}
	interval := opts.ReadinessInterval
	if interval <= 0 {
		interval = DefaultReadinessInterval
	}
	srv.CheckReadiness()
	go srv.WatchReadiness(ctx, interval)

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String())
	if listening != nil {
		listening <- ln.Addr()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down: draining in-flight requests", "timeout", opts.ShutdownTimeout.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(drainCtx); err != nil {
		_ = httpServer.Close()
		return fmt.Errorf("requests still running after %s; closed them: %w", opts.ShutdownTimeout, err)
	}
	logger.Info("shutdown complete")
	return nil
}

// allTokens are the tokens given directly in the environment (file tokens are not re-read here).
func allTokens(sources map[auth.Role]auth.Source) []string {
	var out []string
	for _, src := range sources {
		out = append(out, src.Tokens...)
	}
	return out
}
