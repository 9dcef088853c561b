package cli

import (
	"errors"
	"flag"
	"io"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     Options
		headless bool
		wantErr  error // nil: no error; errAny: any error
	}{
		{name: "no arguments opens the window", args: nil, want: Options{}},
		{name: "version", args: []string{"--version"}, want: Options{ShowVersion: true}, headless: true},
		{name: "single dash works too", args: []string{"-version"}, want: Options{ShowVersion: true}, headless: true},
		{name: "selftest with windows path", args: []string{"--selftest", `Z:\tmp\w.json`}, want: Options{SelftestPath: `Z:\tmp\w.json`}, headless: true},
		{name: "selftest with equals", args: []string{"--selftest=/tmp/r.json"}, want: Options{SelftestPath: "/tmp/r.json"}, headless: true},
		{name: "config and selftest", args: []string{"--config", "c.toml", "--selftest", "r.json"}, want: Options{ConfigPath: "c.toml", SelftestPath: "r.json"}, headless: true},
		{name: "config alone opens the window", args: []string{"--config", "c.toml"}, want: Options{ConfigPath: "c.toml"}},
		{name: "selftest needs a path", args: []string{"--selftest"}, wantErr: errAny},
		{name: "unknown flag", args: []string{"--frobnicate"}, wantErr: errAny},
		{name: "stray argument", args: []string{"extra"}, wantErr: errAny},
		{name: "check-update", args: []string{"--check-update"}, want: Options{CheckUpdate: true}, headless: true},
		{name: "update with config", args: []string{"--config", "c.toml", "--update"}, want: Options{ConfigPath: "c.toml", Update: true}, headless: true},
		{name: "check-update and update together", args: []string{"--check-update", "--update"}, wantErr: errAny},
		{name: "supervisor", args: []string{"--supervise-update", "1.2.0", "--update-target", "/opt/TraderAdmin"}, want: Options{SuperviseVersion: "1.2.0", UpdateTarget: "/opt/TraderAdmin"}, headless: true},
		{name: "supervisor needs its target", args: []string{"--supervise-update", "1.2.0"}, wantErr: errAny},
		{name: "help", args: []string{"--help"}, wantErr: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args, io.Discard)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Parse() error: %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Parse() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got != tt.want || got.Headless() != tt.headless {
				t.Errorf("Parse() = %+v (headless %v), want %+v (headless %v)", got, got.Headless(), tt.want, tt.headless)
			}
		})
	}
}

var errAny = errors.New("any error")
