package update

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version (semver 2.0). Build metadata ("+...")
// is kept for printing but, as the spec says, ignored for ordering.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string // dot-separated pre-release identifiers, nil for a final release
	Build               string
}

// ParseVersion reads "1.2.3", "1.2.3-beta.1", "v1.2.3+meta".
func ParseVersion(s string) (Version, error) {
	var v Version
	text := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexByte(text, '+'); i >= 0 {
		v.Build, text = text[i+1:], text[:i]
	}
	core, pre, hasPre := strings.Cut(text, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q is not semver (MAJOR.MINOR.PATCH)", s)
	}
	nums := []*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return Version{}, fmt.Errorf("version %q is not semver: bad number %q", s, p)
		}
		*nums[i] = n
	}
	if hasPre {
		v.Pre = strings.Split(pre, ".")
		for _, id := range v.Pre {
			if id == "" {
				return Version{}, fmt.Errorf("version %q is not semver: empty pre-release identifier", s)
			}
		}
	}
	return v, nil
}

// Prerelease reports whether v has a pre-release part (it goes to beta).
func (v Version) Prerelease() bool { return len(v.Pre) > 0 }

// Compare returns -1, 0 or 1 by semver 2.0 precedence: a pre-release is lower
// than its final release; numeric identifiers compare as numbers and below
// alphanumeric ones; a longer set of identifiers wins when all before match.
func (v Version) Compare(o Version) int {
	for _, d := range [][2]uint64{{v.Major, o.Major}, {v.Minor, o.Minor}, {v.Patch, o.Patch}} {
		if d[0] != d[1] {
			return cmpInt(d[0] < d[1])
		}
	}
	switch {
	case len(v.Pre) == 0 && len(o.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(o.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(o.Pre); i++ {
		a, b := v.Pre[i], o.Pre[i]
		if a == b {
			continue
		}
		an, aErr := strconv.ParseUint(a, 10, 64)
		bn, bErr := strconv.ParseUint(b, 10, 64)
		switch {
		case aErr == nil && bErr == nil:
			return cmpInt(an < bn)
		case aErr == nil:
			return -1
		case bErr == nil:
			return 1
		default:
			return cmpInt(a < b)
		}
	}
	if len(v.Pre) == len(o.Pre) {
		return 0
	}
	return cmpInt(len(v.Pre) < len(o.Pre))
}

func cmpInt(less bool) int {
	if less {
		return -1
	}
	return 1
}

// CompareVersions compares two version strings; an unparsable one is an error.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}
