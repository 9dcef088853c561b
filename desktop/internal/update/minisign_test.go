package update

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The files in testdata/ were signed with Debian's minisign 0.11:
// `minisign -S` (prehashed, the default) and `minisign -S -l` (legacy).
func TestVerifyAcceptsTheMinisignCLIsSignatures(t *testing.T) {
	key, err := ParseMinisignKey(readTestdata(t, "minisign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(readTestdata(t, "signed-by-minisign.json"))
	for _, tt := range []struct{ sig, comment string }{
		{"signed-by-minisign.json.minisig", "traderadmin test 1.0.0"},
		{"signed-by-minisign.json.legacy.minisig", "legacy"},
	} {
		comment, err := key.Verify(data, readTestdata(t, tt.sig))
		if err != nil || comment != tt.comment {
			t.Errorf("%s: Verify() = %q, %v; want %q", tt.sig, comment, err, tt.comment)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	key, _ := ParseMinisignKey(readTestdata(t, "minisign.pub"))
	data := []byte(readTestdata(t, "signed-by-minisign.json"))
	sig := readTestdata(t, "signed-by-minisign.json.minisig")
	other := newTestKey(t)
	tests := []struct {
		name string
		key  MinisignKey
		data []byte
		sig  string
	}{
		{"one byte of the file changed", key, append([]byte("x"), data[1:]...), sig},
		{"a byte appended", key, append(append([]byte(nil), data...), '\n'), sig},
		{"trusted comment changed", key, data, strings.Replace(sig, "1.0.0", "9.9.9", 1)},
		{"another key", other.pub, data, sig},
		{"another key's signature", key, data, other.sign(data, "traderadmin test 1.0.0")},
		{"empty signature", key, data, ""},
		{"signature line garbled", key, data, strings.Replace(sig, "RUR1", "RUR2", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.key.Verify(tt.data, tt.sig); err == nil {
				t.Fatal("Verify() accepted it")
			}
		})
	}
}

func TestParseMinisignKey(t *testing.T) {
	k := newTestKey(t)
	got, err := ParseMinisignKey(k.line())
	if err != nil || got.ID != k.id || !got.Key.Equal(k.pub.Key) {
		t.Fatalf("ParseMinisignKey() = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "RWQ", "not base64!", k.line()[:20]} {
		if _, err := ParseMinisignKey(bad); err == nil {
			t.Errorf("ParseMinisignKey(%q) accepted it", bad)
		}
	}
	data := []byte("x")
	if _, err := k.pub.Verify(data, k.sign(data, "c")); err != nil {
		t.Errorf("the test signer's signature does not verify: %v", err)
	}
	if _, err := k.pub.Verify([]byte("y"), k.sign(data, "c")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify() of other data = %v, want ErrBadSignature", err)
	}
}

func TestKeyIDTextIsWhatMinisignPrints(t *testing.T) {
	// Stored little-endian; minisign prints the number with %PRIX64: no leading zeros.
	id := [8]byte{0x27, 0x4A, 0x12, 0x05, 0x81, 0xE4, 0xAF, 0x00}
	if got := keyIDText(id); got != "AFE48105124A27" {
		t.Fatalf("keyIDText = %q, want AFE48105124A27", got)
	}
}
