package update

// Minisign verification with the standard library's Ed25519 and
// golang.org/x/crypto/blake2b. Why not a minisign module: aead.dev/minisign
// is not among the modules the Go proxy serves here, and x/crypto is already
// in this module's graph (Wails needs it), so verification adds no new
// dependency. The format is small and stable (jedisct1/minisign, since 2015):
//
//	public key: base64("Ed" | key id (8) | Ed25519 public key (32))
//	.minisig:   untrusted comment: ...
//	            base64(alg (2) | key id (8) | signature (64))
//	            trusted comment: ...
//	            base64(global signature (64))
//
// alg "ED" signs BLAKE2b-512(file) (minisign's default since 0.8, what
// Debian's minisign writes); legacy "Ed" signs the file itself. The global
// signature covers signature | trusted comment, so the comment cannot be
// swapped either.

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// PublicKey is a parsed minisign public key.
type MinisignKey struct {
	ID  [8]byte
	Key ed25519.PublicKey
}

// ParseMinisignKey reads the base64 line of a minisign public key file (it
// also accepts the whole two-line file).
func ParseMinisignKey(text string) (MinisignKey, error) {
	line := strings.TrimSpace(text)
	if lines := strings.Split(line, "\n"); len(lines) > 1 {
		line = strings.TrimSpace(lines[len(lines)-1])
	}
	raw, err := base64.StdEncoding.DecodeString(line)
	if err != nil || len(raw) != 2+8+ed25519.PublicKeySize || string(raw[:2]) != "Ed" {
		return MinisignKey{}, errors.New("not a minisign public key (expected base64 starting with RW)")
	}
	var k MinisignKey
	copy(k.ID[:], raw[2:10])
	k.Key = ed25519.PublicKey(append([]byte(nil), raw[10:]...))
	return k, nil
}

// Signature is a parsed .minisig file.
type Signature struct {
	Algorithm       string // "ED" (prehashed) or "Ed" (legacy)
	KeyID           [8]byte
	Sig             []byte
	TrustedComment  string
	GlobalSignature []byte
}

// ParseSignature reads the text of a .minisig file.
func ParseSignature(text string) (Signature, error) {
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n"), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "untrusted comment:") {
		return Signature{}, errors.New("not a minisign signature (expected 4 lines)")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(raw) != 2+8+ed25519.SignatureSize {
		return Signature{}, errors.New("minisign signature line is malformed")
	}
	var s Signature
	s.Algorithm = string(raw[:2])
	if s.Algorithm != "ED" && s.Algorithm != "Ed" {
		return Signature{}, fmt.Errorf("unknown minisign algorithm %q", s.Algorithm)
	}
	copy(s.KeyID[:], raw[2:10])
	s.Sig = raw[10:]
	const prefix = "trusted comment: "
	if !strings.HasPrefix(lines[2], prefix) {
		return Signature{}, errors.New("minisign signature has no trusted comment")
	}
	s.TrustedComment = strings.TrimPrefix(lines[2], prefix)
	s.GlobalSignature, err = base64.StdEncoding.DecodeString(strings.TrimSpace(lines[3]))
	if err != nil || len(s.GlobalSignature) != ed25519.SignatureSize {
		return Signature{}, errors.New("minisign global signature is malformed")
	}
	return s, nil
}

// ErrBadSignature is returned (wrapped) whenever a signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks sigText over data with key, as `minisign -V` does, and
// returns the trusted comment.
func (k MinisignKey) Verify(data []byte, sigText string) (string, error) {
	s, err := ParseSignature(sigText)
	if err != nil {
		return "", err
	}
	if s.KeyID != k.ID {
		return "", fmt.Errorf("%w: signed with key %s, this app trusts key %s", ErrBadSignature, keyIDText(s.KeyID), keyIDText(k.ID))
	}
	message := data
	if s.Algorithm == "ED" {
		sum := blake2b.Sum512(data)
		message = sum[:]
	}
	if !ed25519.Verify(k.Key, message, s.Sig) {
		return "", ErrBadSignature
	}
	global := append(append([]byte(nil), s.Sig...), []byte(s.TrustedComment)...)
	if !ed25519.Verify(k.Key, global, s.GlobalSignature) {
		return "", fmt.Errorf("%w: trusted comment altered", ErrBadSignature)
	}
	return s.TrustedComment, nil
}

// reverse gives the key id in the byte order minisign prints it.
// keyIDText is a key id as minisign prints it: the little-endian number in upper-case hex,
// without leading zeros (one key in 16 has a shorter id than 16 digits).
func keyIDText(id [8]byte) string {
	return fmt.Sprintf("%X", binary.LittleEndian.Uint64(id[:]))
}
