package update

import (
	"strings"
	"testing"

	"traderadmin/desktop/internal/config"
)

func TestResolveSettings(t *testing.T) {
	k := newTestKey(t)
	loaded := func(edit func(*config.Config)) config.Loaded {
		cfg := config.Defaults()
		if edit != nil {
			edit(&cfg)
		}
		return config.Loaded{Config: cfg, Path: "/home/u/.config/TraderAdmin/config.toml", Found: true, Parsed: true}
	}
	tests := []struct {
		name     string
		key      string
		feed     string
		current  string
		cfg      func(*config.Config)
		channel  string
		feedURL  string
		disabled string
	}{
		{"final release reads stable", k.line(), "https://u.example/", "1.2.0", nil, "stable", "https://u.example/", ""},
		{"pre-release reads beta", k.line(), "https://u.example/", "1.3.0-rc.1", nil, "beta", "https://u.example/", ""},
		{"config chooses channel and feed", k.line(), "https://u.example/", "1.2.0", func(c *config.Config) {
			c.UpdateChannel, c.UpdateFeed = "beta", "http://127.0.0.1:9/"
		}, "beta", "http://127.0.0.1:9/", ""},
		{"update_policy off", k.line(), "https://u.example/", "1.2.0", func(c *config.Config) { c.UpdatePolicy = "off" }, "stable", "https://u.example/", `update_policy = "off"`},
		{"no key built in", "", "https://u.example/", "1.2.0", nil, "stable", "https://u.example/", "this build has no update key"},
		{"no feed", k.line(), "", "1.2.0", nil, "stable", "", "no update feed"},
		{"development build", k.line(), "https://u.example/", "dev", nil, "stable", "https://u.example/", "not a release version"},
	}
	defer func(key, feed string) { PublicKey, DefaultFeedURL = key, feed }(PublicKey, DefaultFeedURL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			PublicKey, DefaultFeedURL = tt.key, tt.feed
			s := ResolveSettings(loaded(tt.cfg), tt.current, "/opt/TraderAdmin")
			if s.Channel != tt.channel || s.FeedURL != tt.feedURL || s.StateDir != "/home/u/.config/TraderAdmin" {
				t.Errorf("settings = %+v", s)
			}
			if (tt.disabled == "") != (s.Disabled == "") || !strings.Contains(s.Disabled, tt.disabled) {
				t.Errorf("disabled = %q, want %q", s.Disabled, tt.disabled)
			}
		})
	}
}
