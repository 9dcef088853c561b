// Package backend is the desktop app's HTTP client for the TraderAdmin
// backend API. The Wails UI never calls the backend from JavaScript: every
// request goes through this package (so there is no CORS to configure and the
// token never reaches the web view).
package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one request, connection included.
const DefaultTimeout = 10 * time.Second

// maxBody caps how much of a response is read; the config and status
// documents are a few KiB.
const maxBody = 4 << 20

// Client talks to one backend. The zero value is not usable; call New.
type Client struct {
	baseURL   string
	token     string
	userAgent string
	http      *http.Client
}

// New returns a client for baseURL (e.g. http://127.0.0.1:8080). token may be
// empty: reads need none, and a write then gets a 401 the UI explains.
func New(baseURL, token, userAgent string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		token:     token,
		userAgent: userAgent,
		http:      &http.Client{Timeout: timeout},
	}
}

// BaseURL is the backend address the client was made for.
func (c *Client) BaseURL() string { return c.baseURL }

// TokenSet reports whether requests carry a bearer token.
func (c *Client) TokenSet() bool { return c.token != "" }

// ProbeResult is the answer of a health endpoint; any HTTP answer is a
// result, only a missing answer is an error.
type ProbeResult struct {
	StatusCode int    `json:"status_code"`
	OK         bool   `json:"ok"`
	Body       string `json:"body"`
}

// Probe GETs a health endpoint such as /healthz or /readyz.
func (c *Client) Probe(ctx context.Context, path string) (ProbeResult, error) {
	resp, body, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return ProbeResult{}, err
	}
	return ProbeResult{
		StatusCode: resp.StatusCode,
		OK:         resp.StatusCode >= 200 && resp.StatusCode < 300,
		Body:       probeSummary(body),
	}, nil
}

// probeSummary shortens a health answer for display: the backend sends
// {"status":"unavailable","reason":"..."}; anything else is shown as text.
func probeSummary(body []byte) string {
	var doc struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Status != "" {
		if doc.Reason != "" {
			return doc.Status + ": " + doc.Reason
		}
		return doc.Status
	}
	return strings.TrimSpace(truncate(string(body), 512))
}

// Version GETs /version.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	var v VersionInfo
	err := c.getJSON(ctx, "/version", &v)
	return v, err
}

// Config GETs /api/v1/config and returns it with its ETag, which PutConfig
// needs to detect concurrent edits.
func (c *Client) Config(ctx context.Context) (TradingConfig, string, error) {
	resp, body, err := c.expect(ctx, http.MethodGet, "/api/v1/config", nil, nil)
	if err != nil {
		return TradingConfig{}, "", err
	}
	var cfg TradingConfig
	if err := c.decode(resp, body, &cfg); err != nil {
		return TradingConfig{}, "", err
	}
	return normalize(cfg), resp.Header.Get("ETag"), nil
}

// PutConfig replaces the whole configuration if it still has the given ETag.
// A stale ETag gives an error matching ErrConflict, a missing or wrong token
// one matching ErrUnauthorized.
func (c *Client) PutConfig(ctx context.Context, cfg TradingConfig, etag string) (TradingConfig, string, error) {
	payload, err := json.Marshal(normalize(cfg))
	if err != nil {
		return TradingConfig{}, "", fmt.Errorf("encode config: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if etag != "" {
		h.Set("If-Match", etag)
	}
	resp, body, err := c.expect(ctx, http.MethodPut, "/api/v1/config", payload, h)
	if err != nil {
		return TradingConfig{}, "", err
	}
	var saved TradingConfig
	if err := c.decode(resp, body, &saved); err != nil {
		return TradingConfig{}, "", err
	}
	return normalize(saved), resp.Header.Get("ETag"), nil
}

// Status GETs /api/v1/status, the orchestrator's last heartbeat.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.getJSON(ctx, "/api/v1/status", &st)
	return st, err
}

// Audit GETs the newest limit entries of /api/v1/audit, newest first.
func (c *Client) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	path := "/api/v1/audit?limit=" + strconv.Itoa(limit)
	resp, body, err := c.expect(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	entries, err := decodeAudit(body)
	if err != nil {
		return nil, &TransportError{URL: resp.Request.URL.String(), Err: fmt.Errorf("unexpected audit body: %w", err)}
	}
	return entries, nil
}

func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	resp, body, err := c.expect(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	return c.decode(resp, body, out)
}

func (c *Client) decode(resp *http.Response, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return &TransportError{URL: resp.Request.URL.String(), Err: fmt.Errorf("response is not the expected JSON: %w", err)}
	}
	return nil
}

// expect is do plus: any non-2xx answer becomes an *APIError.
func (c *Client) expect(ctx context.Context, method, path string, payload []byte, h http.Header) (*http.Response, []byte, error) {
	resp, body, err := c.do(ctx, method, path, payload, h)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, apiError(method, path, resp.StatusCode, body)
	}
	return resp, body, nil
}

func (c *Client) do(ctx context.Context, method, path string, payload []byte, h http.Header) (*http.Response, []byte, error) {
	target := c.baseURL + path
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, nil, &TransportError{URL: target, Err: err}
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the method and URL
		}
		return nil, nil, &TransportError{URL: target, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, &TransportError{URL: target, Err: fmt.Errorf("read response: %w", err)}
	}
	return resp, body, nil
}

func apiError(method, path string, code int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: code}
	var doc struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Error != "" {
		e.Message, e.Field = doc.Error, doc.Field
	} else {
		e.Message = strings.TrimSpace(truncate(string(body), 512))
	}
	return e
}

// normalize makes nil parameter maps empty ones: the backend wants an object.
func normalize(cfg TradingConfig) TradingConfig {
	if cfg.Strategies == nil {
		cfg.Strategies = []Strategy{}
	}
	for i := range cfg.Strategies {
		if cfg.Strategies[i].Parameters == nil {
			cfg.Strategies[i].Parameters = map[string]float64{}
		}
	}
	return cfg
}

// decodeAudit accepts a bare list or an object with the list in "entries".
func decodeAudit(body []byte) ([]AuditEntry, error) {
	var list []AuditEntry
	if err := json.Unmarshal(body, &list); err == nil {
		return list, nil
	}
	var doc struct {
		Entries []AuditEntry `json:"entries"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	return doc.Entries, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
