package update

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"golang.org/x/crypto/blake2b"
)

// testKey is a minisign key pair made in the test, signing the way
// `minisign -S` does (prehashed "ED"); testdata/ holds files signed by the
// real minisign CLI to show the formats agree.
type testKey struct {
	id   [8]byte
	priv ed25519.PrivateKey
	pub  MinisignKey
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var k testKey
	_, _ = rand.Read(k.id[:])
	k.priv = priv
	k.pub = MinisignKey{ID: k.id, Key: pub}
	return k
}

// line is the public key's base64 line, as built into the binary.
func (k testKey) line() string {
	return base64.StdEncoding.EncodeToString(append(append([]byte("Ed"), k.id[:]...), k.pub.Key...))
}

func (k testKey) sign(data []byte, comment string) string {
	sum := blake2b.Sum512(data)
	sig := ed25519.Sign(k.priv, sum[:])
	global := ed25519.Sign(k.priv, append(append([]byte(nil), sig...), comment...))
	raw := append(append([]byte("ED"), k.id[:]...), sig...)
	return "untrusted comment: test\n" + base64.StdEncoding.EncodeToString(raw) + "\ntrusted comment: " + comment + "\n" + base64.StdEncoding.EncodeToString(global) + "\n"
}
