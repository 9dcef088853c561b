package update

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
)

// Manifest is a channel's offer (<channel>.json) or one version's record
// (<version>/release.json); see /work/shared/update-feed-contract.md.
type Manifest struct {
	Schema         int                 `json:"schema"`
	Product        string              `json:"product"`
	Channel        string              `json:"channel"`
	Version        string              `json:"version"`
	Notes          string              `json:"notes"`
	PubDate        string              `json:"pub_date"`
	Rollout        int                 `json:"rollout"`
	MinimumVersion string              `json:"minimum_version"`
	Withdrawn      []string            `json:"withdrawn"`
	Signed         *bool               `json:"signed,omitempty"`
	Platforms      map[string]Platform `json:"platforms"`
}

// Platform is the file a platform downloads.
type Platform struct {
	URL       string `json:"url"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Signature string `json:"signature"`
}

const (
	schemaVersion = 1
	productName   = "TraderAdmin"
)

// VerifyManifest checks the manifest's signature with key BEFORE decoding
// it, then decodes and validates it. Nothing in an unverified manifest is
// looked at.
func VerifyManifest(key MinisignKey, data []byte, sigText string) (Manifest, error) {
	if sigText == "" {
		return Manifest{}, fmt.Errorf("%w: the manifest has no signature (an unsigned feed)", ErrBadSignature)
	}
	if _, err := key.Verify(data, sigText); err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	return m, m.validate()
}

func (m Manifest) validate() error {
	switch {
	case m.Schema != schemaVersion:
		return fmt.Errorf("manifest schema %d is not supported (this app reads %d)", m.Schema, schemaVersion)
	case m.Product != productName:
		return fmt.Errorf("manifest is for %q, not %s", m.Product, productName)
	case m.Signed != nil && !*m.Signed:
		return fmt.Errorf("%w: the manifest says it is unsigned", ErrBadSignature)
	case m.Rollout < 0 || m.Rollout > 100:
		return fmt.Errorf("manifest rollout %d is not a percentage", m.Rollout)
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if m.MinimumVersion != "" {
		if _, err := ParseVersion(m.MinimumVersion); err != nil {
			return fmt.Errorf("manifest minimum_version: %w", err)
		}
	}
	return nil
}

// Bucket places an installation in 0..9999 for version: the first 8 bytes
// of sha256(id + ":" + version), big-endian, mod 10000. Per version, so the
// same machines are not always the first to get a new release.
func Bucket(installID, version string) int {
	sum := sha256.Sum256([]byte(installID + ":" + version))
	return int(binary.BigEndian.Uint64(sum[:8]) % 10000)
}

// Decision is what a client does with a manifest.
type Decision struct {
	Offer   bool
	Version string
	Reason  string // why not, or why (e.g. "withdrawn version", "minimum version")
}

// Decide applies the contract's client rules to a verified manifest.
func Decide(m Manifest, current, installID string, bad []string) (Decision, error) {
	d := Decision{Version: m.Version}
	cmp, err := CompareVersions(m.Version, current)
	if err != nil {
		return d, err
	}
	currentWithdrawn := slices.Contains(m.Withdrawn, current)
	switch {
	case slices.Contains(m.Withdrawn, m.Version):
		d.Reason = fmt.Sprintf("%s is withdrawn", m.Version)
		return d, nil
	case slices.Contains(bad, m.Version):
		d.Reason = fmt.Sprintf("%s failed to start on this machine before and was undone", m.Version)
		return d, nil
	case cmp == 0:
		d.Reason = fmt.Sprintf("%s is the newest version", current)
		return d, nil
	case cmp < 0 && !currentWithdrawn:
		d.Reason = fmt.Sprintf("the feed offers %s, older than this %s", m.Version, current)
		return d, nil
	}
	below := false
	if m.MinimumVersion != "" {
		if c, err := CompareVersions(current, m.MinimumVersion); err == nil && c < 0 {
			below = true
		}
	}
	bucket := Bucket(installID, m.Version)
	switch {
	case below:
		d.Offer, d.Reason = true, fmt.Sprintf("%s is below the minimum version %s", current, m.MinimumVersion)
	case bucket < m.Rollout*100:
		d.Offer, d.Reason = true, fmt.Sprintf("rollout %d%%, this installation's bucket %d", m.Rollout, bucket)
	}
	if d.Offer && currentWithdrawn {
		d.Reason = fmt.Sprintf("%s was withdrawn; %s", current, d.Reason)
	}
	if !d.Offer {
		d.Reason = fmt.Sprintf("%s is rolled out to %d%% and this installation is not among them yet (bucket %d of 10000)", m.Version, m.Rollout, bucket)
	}
	return d, nil
}
