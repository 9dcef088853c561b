package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

const (
	// ManifestTimeout bounds fetching a manifest and its signature.
	ManifestTimeout = 30 * time.Second
	// DownloadTimeout bounds one file download (an installer is ~10 MB).
	DownloadTimeout   = 10 * time.Minute
	maxManifestBytes  = 1 << 20
	maxSignatureBytes = 8 << 10
)

// Feed reads a signed update feed over HTTP(S).
type Feed struct {
	Root *url.URL // the folder that holds <channel>.json; ends with "/"
	Key  MinisignKey
	HTTP *http.Client
}

// NewFeed returns a client of the feed at root, trusting key.
func NewFeed(root string, key MinisignKey) (*Feed, error) {
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("update feed %q is not an http(s) URL", root)
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
	}
	return &Feed{Root: u, Key: key, HTTP: &http.Client{Transport: transport}}, nil
}

// Manifest fetches name (e.g. "beta.json", "0.9.0/release.json") and its
// .minisig and returns it verified.
func (f *Feed) Manifest(ctx context.Context, name string) (Manifest, error) {
	ctx, cancel := context.WithTimeout(ctx, ManifestTimeout)
	defer cancel()
	data, err := f.get(ctx, name, maxManifestBytes)
	if err != nil {
		return Manifest{}, err
	}
	sig, err := f.get(ctx, name+".minisig", maxSignatureBytes)
	if errors.Is(err, errNotFound) {
		sig, err = nil, nil // refused below as unsigned
	}
	if err != nil {
		return Manifest{}, err
	}
	m, err := VerifyManifest(f.Key, data, string(sig))
	if err != nil {
		return Manifest{}, fmt.Errorf("%s refused: %w", f.resolve(name), err)
	}
	return m, nil
}

var errNotFound = errors.New("not found")

func (f *Feed) resolve(name string) string {
	ref, err := url.Parse(name)
	if err != nil {
		return f.Root.String() + name
	}
	return f.Root.ResolveReference(ref).String()
}

func (f *Feed) get(ctx context.Context, name string, limit int64) ([]byte, error) {
	address := f.resolve(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "TraderAdmin-updater")
	resp, err := f.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("update feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w", address, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered HTTP %d", address, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", address, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", address, limit)
	}
	return data, nil
}

// PlatformKey names this build's platform in a manifest.
func PlatformKey() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return runtime.GOOS + "-" + arch
}

// Download fetches p into a new file in dir and checks its size, sha256 and
// minisign signature before returning its path; a file that fails any check
// is deleted. Nothing downloaded runs before this returns.
func (f *Feed) Download(ctx context.Context, p Platform, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, DownloadTimeout)
	defer cancel()
	if p.URL == "" || p.Size <= 0 || len(p.SHA256) != 64 || p.Signature == "" {
		return "", errors.New("the manifest's file entry lacks url, size, sha256 or signature")
	}
	data, err := f.get(ctx, p.URL, p.Size)
	if err != nil {
		return "", err
	}
	if int64(len(data)) != p.Size {
		return "", fmt.Errorf("%s: %d bytes, the manifest says %d", p.URL, len(data), p.Size)
	}
	sum := sha256.Sum256(data)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), p.SHA256) {
		return "", fmt.Errorf("%s: sha256 %x does not match the manifest", p.URL, sum)
	}
	if _, err := f.Key.Verify(data, p.Signature); err != nil {
		return "", fmt.Errorf("%s: %w", p.URL, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := filepath.Base(strings.ReplaceAll(p.URL, "\\", "/"))
	tmp, err := os.CreateTemp(dir, ".download-*-"+name)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}
