// Package app wires the backend together: it reads flags and environment, loads the
// configuration, serves HTTP and shuts down gracefully.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"traderadmin/backend/internal/auth"
)

// Environment variables; each flag's environment variable is its default.
const (
	EnvListen          = "BACKEND_LISTEN"
	EnvDataDir         = "BACKEND_DATA_DIR"
	EnvShutdownTimeout = "BACKEND_SHUTDOWN_TIMEOUT"
	// Each role's tokens: a list in the variable (comma- or space-separated) or a file named by
	// the _FILE variable (one token per line), re-read when it changes.
	EnvAdminToken            = "BACKEND_ADMIN_TOKEN"
	EnvAdminTokenFile        = "BACKEND_ADMIN_TOKEN_FILE"
	EnvOrchestratorToken     = "BACKEND_ORCHESTRATOR_TOKEN"
	EnvOrchestratorTokenFile = "BACKEND_ORCHESTRATOR_TOKEN_FILE"
	// The names from before roles existed; they now mean the admin role's tokens.
	EnvToken     = "BACKEND_TOKEN"
	EnvTokenFile = "BACKEND_TOKEN_FILE"
)

// Built-in defaults.
const (
	DefaultListen          = ":8080"
	DefaultDataDir         = "/var/lib/traderadmin"
	DefaultShutdownTimeout = 10 * time.Second
	// How often the server checks its own readiness (configuration loaded, data directory
	// writable); /readyz answers the last result.
	DefaultReadinessInterval = 2 * time.Second
)

// Options is the resolved configuration of one process.
type Options struct {
	Listen          string
	DataDir         string
	ShutdownTimeout time.Duration
	// ReadinessInterval is how often readiness is checked, whatever the probes do.
	ReadinessInterval time.Duration
	// Tokens are each role's token sources; a role without one cannot authenticate.
	Tokens      map[auth.Role]auth.Source
	ShowVersion bool
}

// UsageError is a problem with flags or environment; the process exits with status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ParseOptions resolves options from args and the environment. A flag given on the command line
// wins over its environment variable, which wins over the built-in default. It returns
// flag.ErrHelp for -h.
func ParseOptions(args []string, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error), stderr io.Writer) (Options, error) {
	env := func(name, def string) string {
		if v, ok := lookupEnv(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	shutdownDefault := DefaultShutdownTimeout
	if v := env(EnvShutdownTimeout, ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Options{}, &UsageError{fmt.Errorf("%s=%q: want a positive duration such as 10s", EnvShutdownTimeout, v)}
		}
		shutdownDefault = d
	}

	var o Options
	fs := flag.NewFlagSet("traderadmin-backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Listen, "listen", env(EnvListen, DefaultListen), "address to serve HTTP on (env "+EnvListen+")")
	fs.StringVar(&o.DataDir, "data-dir", env(EnvDataDir, DefaultDataDir), "directory holding config.toml and audit.jsonl (env "+EnvDataDir+")")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", shutdownDefault, "how long to drain in-flight requests on SIGTERM/SIGINT (env "+EnvShutdownTimeout+")")
	fs.DurationVar(&o.ReadinessInterval, "readiness-interval", DefaultReadinessInterval, "how often the server checks that its configuration is loaded and its data directory writable; /readyz answers the last result")
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: traderadmin-backend [flags]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nBearer tokens, one list per role (comma-separated in the variable, one per line in the file):\n"+
			"  admin (read and change the configuration, read the audit log): %s or %s\n"+
			"    (%s / %s are older names for these)\n"+
			"  orchestrator (read the configuration, send heartbeats): %s or %s\n"+
			"A role without tokens cannot authenticate; token files are re-read when they change.\n",
			EnvAdminToken, EnvAdminTokenFile, EnvToken, EnvTokenFile, EnvOrchestratorToken, EnvOrchestratorTokenFile)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Options{}, err
		}
		return Options{}, &UsageError{err}
	}
	if fs.NArg() > 0 {
		return Options{}, &UsageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	if o.ShowVersion {
		return o, nil
	}
	if o.ShutdownTimeout <= 0 {
		return Options{}, &UsageError{errors.New("-shutdown-timeout must be positive")}
	}
	if o.ReadinessInterval <= 0 {
		return Options{}, &UsageError{errors.New("-readiness-interval must be positive")}
	}
	if o.DataDir == "" {
		return Options{}, &UsageError{errors.New("-data-dir must not be empty")}
	}

	tokens, err := tokenSources(lookupEnv, readFile)
	if err != nil {
		return Options{}, &UsageError{err}
	}
	o.Tokens = tokens
	return o, nil
}

// tokenSources resolves each role's token source. Setting a role's list and its file is
// ambiguous and refused; so is a token file that cannot be read or holds no token, because an
// operator who names a file expects that role to work; and so is one token in two roles.
func tokenSources(lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (map[auth.Role]auth.Source, error) {
	get := func(name string) string { v, _ := lookupEnv(name); return strings.TrimSpace(v) }
	admin, adminFile, adminNames := get(EnvAdminToken), get(EnvAdminTokenFile), EnvAdminToken+"/"+EnvAdminTokenFile
	if legacy, legacyFile := get(EnvToken), get(EnvTokenFile); legacy != "" || legacyFile != "" {
		if admin != "" || adminFile != "" {
			return nil, fmt.Errorf("%s/%s are older names for %s; set only one of them", EnvToken, EnvTokenFile, adminNames)
		}
		admin, adminFile = legacy, legacyFile
		adminNames = EnvToken + "/" + EnvTokenFile
	}
	roles := []struct {
		role       auth.Role
		list, file string
		names      string
	}{
		{auth.RoleAdmin, admin, adminFile, adminNames},
		{auth.RoleOrchestrator, get(EnvOrchestratorToken), get(EnvOrchestratorTokenFile), EnvOrchestratorToken + "/" + EnvOrchestratorTokenFile},
	}
	out := map[auth.Role]auth.Source{}
	owner := map[string]auth.Role{}
	for _, r := range roles {
		listVar, fileVar, _ := strings.Cut(r.names, "/")
		var tokens []string
		switch {
		case r.list != "" && r.file != "":
			return nil, fmt.Errorf("both %s and %s are set; set only one", listVar, fileVar)
		case r.list != "":
			tokens = auth.ParseTokens(r.list)
			out[r.role] = auth.Source{Tokens: tokens, Describe: listVar}
		case r.file != "":
			data, err := readFile(r.file)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fileVar, err)
			}
			tokens = auth.ParseTokens(string(data))
			if len(tokens) == 0 {
				return nil, fmt.Errorf("%s: %s is empty", fileVar, r.file)
			}
			out[r.role] = auth.Source{File: r.file, Describe: fileVar + " (" + r.file + ")"}
		}
		for _, t := range tokens {
			if other, dup := owner[t]; dup && other != r.role {
				return nil, fmt.Errorf("the same token is configured for the %s and the %s role; each role needs its own", other, r.role)
			}
			owner[t] = r.role
		}
	}
	return out, nil
}
