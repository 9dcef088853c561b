package validate

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type inner struct {
	When time.Time `json:"when"`
	N    int       `json:"n"`
}

type body struct {
	Name  string  `json:"name"`
	Inner inner   `json:"inner"`
	List  []inner `json:"list"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body   string
		allowUnknown bool
		field, msg   string // field "-" means success
	}{
		{"valid", `{"name": "x", "inner": {"when": "2026-01-01T00:00:00Z", "n": 1}}`, false, "-", ""},
		{"unknown allowed", `{"name": "x", "future": true}`, true, "-", ""},
		{"unknown rejected", `{"name": "x", "future": true}`, false, "req.future", "unknown field"},
		{"wrong type", `{"name": 3}`, false, "req.name", "a string"},
		{"nested wrong type", `{"inner": {"n": "one"}}`, false, "req.inner.n", "a number"},
		{"bad time", `{"inner": {"when": "yesterday"}}`, false, "req", "invalid JSON"},
		{"empty", ``, false, "req", "empty"},
		{"truncated", `{"name": "x"`, false, "req", "unexpected end"},
		{"syntax", `{"name" "x"}`, false, "req", "malformed JSON at byte"},
		{"two values", `{} {}`, false, "req", "after the JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			err := DecodeJSON(strings.NewReader(tt.body), &b, "req", tt.allowUnknown)
			if tt.field == "-" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *Error
			if !errors.As(err, &ve) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if ve.Field != tt.field || !strings.Contains(ve.Message, tt.msg) {
				t.Fatalf("error = {%q, %q}, want field %q mentioning %q", ve.Field, ve.Message, tt.field, tt.msg)
			}
		})
	}
}

func TestDecodeJSONPassesBodyTooLargeThrough(t *testing.T) {
	rec := httptest.NewRecorder()
	r := http.MaxBytesReader(rec, nopCloser{strings.NewReader(`{"name": "` + strings.Repeat("x", 100) + `"}`)}, 10)
	var b body
	var tooLarge *http.MaxBytesError
	if err := DecodeJSON(r, &b, "", false); !errors.As(err, &tooLarge) {
		t.Fatalf("error = %v (%T), want *http.MaxBytesError", err, err)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
