// Package buildinfo carries the version stamped into the binary at link time:
//
//	go build -ldflags "-X traderadmin/backend/internal/buildinfo.Version=1.2.3 \
//	                   -X traderadmin/backend/internal/buildinfo.Commit=abc1234"
package buildinfo

import "runtime"

// Version and Commit are variables (not constants) so that the linker's -X flag can set them.
var (
	Version = "dev"
	Commit  = "unknown"
)

// Info is the JSON shape served by GET /version.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Get returns the build information of the running binary.
func Get() Info {
	return Info{Version: Version, Commit: Commit, GoVersion: runtime.Version()}
}

// String is the one-line form printed by -version.
func (i Info) String() string {
	return "traderadmin-backend " + i.Version + " (commit " + i.Commit + ", " + i.GoVersion + ")"
}
