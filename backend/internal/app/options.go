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
)

// Environment variables; each flag's environment variable is its default.
const (
	EnvListen          = "BACKEND_LISTEN"
	EnvDataDir         = "BACKEND_DATA_DIR"
	EnvShutdownTimeout = "BACKEND_SHUTDOWN_TIMEOUT"
	EnvToken           = "BACKEND_TOKEN"
	EnvTokenFile       = "BACKEND_TOKEN_FILE"
)

// Built-in defaults.
const (
	DefaultListen          = ":8080"
	DefaultDataDir         = "/var/lib/traderadmin"
	DefaultShutdownTimeout = 10 * time.Second
)

// Options is the resolved configuration of one process.
type Options struct {
	Listen          string
	DataDir         string
	ShutdownTimeout time.Duration
	// Token is the API bearer token; empty disables every mutating endpoint.
	Token string
	// TokenSource says where Token came from, for the startup log (never the token itself).
	TokenSource string
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
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: traderadmin-backend [flags]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nThe API bearer token comes from %s, or from the file named by %s\n"+
			"(surrounding whitespace trimmed). Without one, every change is refused with 401.\n", EnvToken, EnvTokenFile)
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
	if o.DataDir == "" {
		return Options{}, &UsageError{errors.New("-data-dir must not be empty")}
	}

	token, source, err := loadToken(lookupEnv, readFile)
	if err != nil {
		return Options{}, &UsageError{err}
	}
	o.Token, o.TokenSource = token, source
	return o, nil
}

// loadToken reads the bearer token from BACKEND_TOKEN or the file named by BACKEND_TOKEN_FILE
// (a mounted secret). Setting both is ambiguous and refused; so is a token file that cannot be
// read or is empty, because an operator who names a file expects authentication to be on.
func loadToken(lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (token, source string, err error) {
	direct, _ := lookupEnv(EnvToken)
	direct = strings.TrimSpace(direct)
	file, _ := lookupEnv(EnvTokenFile)
	file = strings.TrimSpace(file)
	switch {
	case direct != "" && file != "":
		return "", "", fmt.Errorf("both %s and %s are set; set only one", EnvToken, EnvTokenFile)
	case direct != "":
		return direct, EnvToken, nil
	case file != "":
		data, err := readFile(file)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", EnvTokenFile, err)
		}
		token := strings.TrimSpace(string(data))
		if token == "" {
			return "", "", fmt.Errorf("%s: %s is empty", EnvTokenFile, file)
		}
		return token, EnvTokenFile + " (" + file + ")", nil
	default:
		return "", "", nil
	}
}
