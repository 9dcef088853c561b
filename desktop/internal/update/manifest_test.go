package update

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func sampleManifest() Manifest {
	return Manifest{
		Schema: 1, Product: "TraderAdmin", Channel: "stable", Version: "1.2.0",
		Notes: "## Fixes\n- faster", PubDate: "2026-12-06T10:00:00Z", Rollout: 100,
		MinimumVersion: "0.0.0", Withdrawn: []string{"1.1.1"},
		Platforms: map[string]Platform{
			"linux-x86_64":   {URL: "1.2.0/TraderAdmin-1.2.0-linux-amd64", Size: 10, SHA256: strings.Repeat("a", 64), Signature: "sig-l"},
			"windows-x86_64": {URL: "1.2.0/TraderAdmin-1.2.0-setup.exe", Size: 20, SHA256: strings.Repeat("b", 64), Signature: "sig-w"},
		},
	}
}

func manifestJSON(t *testing.T, m Manifest) []byte {
	t.Helper()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestVerifyManifestAcceptsASignedManifest(t *testing.T) {
	k := newTestKey(t)
	data := manifestJSON(t, sampleManifest())
	m, err := VerifyManifest(k.pub, data, k.sign(data, "traderadmin stable 1.2.0"))
	if err != nil || m.Version != "1.2.0" || m.Platforms["linux-x86_64"].Size != 10 {
		t.Fatalf("VerifyManifest() = %+v, %v", m, err)
	}
}

// Every field of a signed manifest, changed after signing, is refused.
func TestVerifyManifestRefusesEveryFieldChanged(t *testing.T) {
	k := newTestKey(t)
	original := manifestJSON(t, sampleManifest())
	sig := k.sign(original, "traderadmin stable 1.2.0")
	var fields map[string]any
	if err := json.Unmarshal(original, &fields); err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(Manifest) Manifest{}
	for name := range fields {
		changes[name] = nil // every top-level field must have a change below
	}
	changes["schema"] = func(m Manifest) Manifest { m.Schema = 2; return m }
	changes["product"] = func(m Manifest) Manifest { m.Product = "Other"; return m }
	changes["channel"] = func(m Manifest) Manifest { m.Channel = "beta"; return m }
	changes["version"] = func(m Manifest) Manifest { m.Version = "1.3.0"; return m }
	changes["notes"] = func(m Manifest) Manifest { m.Notes += "!"; return m }
	changes["pub_date"] = func(m Manifest) Manifest { m.PubDate = "2026-12-07T10:00:00Z"; return m }
	changes["rollout"] = func(m Manifest) Manifest { m.Rollout = 99; return m }
	changes["minimum_version"] = func(m Manifest) Manifest { m.MinimumVersion = "1.0.0"; return m }
	changes["withdrawn"] = func(m Manifest) Manifest { m.Withdrawn = nil; return m }
	changes["platforms"] = func(m Manifest) Manifest { delete(m.Platforms, "windows-x86_64"); return m }
	for _, plat := range []string{"linux-x86_64", "windows-x86_64"} {
		plat := plat
		edit := func(f func(*Platform)) func(Manifest) Manifest {
			return func(m Manifest) Manifest {
				ps := map[string]Platform{}
				for k, v := range m.Platforms {
					ps[k] = v
				}
				p := ps[plat]
				f(&p)
				ps[plat] = p
				m.Platforms = ps
				return m
			}
		}
		changes[plat+".url"] = edit(func(p *Platform) { p.URL = "evil/" + p.URL })
		changes[plat+".size"] = edit(func(p *Platform) { p.Size++ })
		changes[plat+".sha256"] = edit(func(p *Platform) { p.SHA256 = strings.Repeat("c", 64) })
		changes[plat+".signature"] = edit(func(p *Platform) { p.Signature += "x" })
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			if change == nil {
				t.Fatalf("no change defined for field %q", name)
			}
			altered := manifestJSON(t, change(sampleManifest()))
			if string(altered) == string(original) {
				t.Fatal("the change did not change the manifest")
			}
			if _, err := VerifyManifest(k.pub, altered, sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("VerifyManifest() = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestVerifyManifestRefusesUnsignedAndInvalid(t *testing.T) {
	k := newTestKey(t)
	unsigned := sampleManifest()
	no := false
	unsigned.Signed = &no
	wrongProduct := sampleManifest()
	wrongProduct.Product = "Other"
	badVersion := sampleManifest()
	badVersion.Version = "1.2"
	tests := []struct {
		name    string
		data    []byte
		signed  bool
		errPart string
	}{
		{"no signature", manifestJSON(t, sampleManifest()), false, "unsigned feed"},
		{"says unsigned", manifestJSON(t, unsigned), true, "unsigned"},
		{"another product", manifestJSON(t, wrongProduct), true, "Other"},
		{"not semver", manifestJSON(t, badVersion), true, "semver"},
		{"not JSON", []byte("<html>"), true, "manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := ""
			if tt.signed {
				sig = k.sign(tt.data, "c")
			}
			_, err := VerifyManifest(k.pub, tt.data, sig)
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("VerifyManifest() = %v, want an error containing %q", err, tt.errPart)
			}
		})
	}
}

func TestVersionOrdering(t *testing.T) {
	// Ascending, semver 2.0 section 11's example plus dev builds.
	ordered := []string{
		"0.7.0-dev.g1234", "0.7.0", "0.9.0-test.1", "0.9.0-test.2", "0.9.0-test.10",
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			got, err := CompareVersions(ordered[i], ordered[j])
			want := map[bool]int{true: -1, false: 1}[i < j]
			if i == j {
				want = 0
			}
			if err != nil || got != want {
				t.Errorf("CompareVersions(%s, %s) = %d, %v; want %d", ordered[i], ordered[j], got, err, want)
			}
		}
	}
	if c, _ := CompareVersions("1.0.0+build.5", "1.0.0"); c != 0 {
		t.Error("build metadata must not count in the order")
	}
	for _, bad := range []string{"", "1", "1.2", "1.2.x", "01.2.3", "1.2.3-", "1.2.3-a..b", "dev"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted it", bad)
		}
	}
}

func TestBucketShareMatchesRollout(t *testing.T) {
	const ids = 10000
	under := 0
	for i := 0; i < ids; i++ {
		raw := make([]byte, 16)
		_, _ = rand.Read(raw)
		if Bucket(hex.EncodeToString(raw), "1.2.0") < 20*100 {
			under++
		}
	}
	share := float64(under) / ids * 100
	if share < 18 || share > 22 {
		t.Errorf("%.2f%% of %d random ids are under a 20%% rollout, want 18-22%%", share, ids)
	}
	if Bucket("id", "1.2.0") != Bucket("id", "1.2.0") {
		t.Error("the bucket is not stable")
	}
}

func TestDecide(t *testing.T) {
	id := "0123456789abcdef"
	inBucket := Bucket(id, "1.2.0")
	tests := []struct {
		name    string
		current string
		edit    func(*Manifest)
		bad     []string
		offer   bool
		reason  string
	}{
		{"newer version", "1.1.0", nil, nil, true, "rollout 100%"},
		{"same version", "1.2.0", nil, nil, false, "newest"},
		{"pre-release of the same version is older", "1.2.0-rc.1", nil, nil, true, ""},
		{"older version is no downgrade", "1.3.0", nil, nil, false, "older"},
		{"withdrawn version", "1.1.0", func(m *Manifest) { m.Withdrawn = []string{"1.2.0"} }, nil, false, "withdrawn"},
		{"bad on this machine", "1.1.0", nil, []string{"1.2.0"}, false, "failed to start"},
		{"client on a withdrawn version goes back", "1.3.0", func(m *Manifest) { m.Withdrawn = []string{"1.3.0"} }, nil, true, "1.3.0 was withdrawn"},
		{"rollout 0 offers nothing", "1.1.0", func(m *Manifest) { m.Rollout = 0 }, nil, false, "rolled out to 0%"},
		{"bucket just inside", "1.1.0", func(m *Manifest) { m.Rollout = inBucket/100 + 1 }, nil, true, ""},
		{"bucket just outside", "1.1.0", func(m *Manifest) { m.Rollout = inBucket / 100 }, nil, false, "not among them"},
		{"below the minimum skips the rollout", "1.0.0", func(m *Manifest) { m.Rollout, m.MinimumVersion = 0, "1.1.0" }, nil, true, "minimum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleManifest()
			if tt.edit != nil {
				tt.edit(&m)
			}
			d, err := Decide(m, tt.current, id, tt.bad)
			if err != nil || d.Offer != tt.offer || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Decide() = %+v, %v; want offer %v, reason containing %q", d, err, tt.offer, tt.reason)
			}
		})
	}
	if _, err := Decide(sampleManifest(), "dev", id, nil); err == nil {
		t.Error("Decide() with a non-semver current version succeeded")
	}
}
