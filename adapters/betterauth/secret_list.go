package betterauth

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// SecretList is BETTER_AUTH_SECRETS, Better Auth's versioned secrets:
// "<version>:<secret>,...", the current secret first. Better Auth 1.7.25 signs session
// cookies and bearer tokens with the first entry's secret and verifies them with that one
// alone; the later entries only decrypt the payloads it encrypted before a rotation
// (docs/better-auth.md, "Secret lists"). So the first entry is the one secret a Verifier
// checks, and a rotation of the list signs every session out, in Better Auth and here.
type SecretList struct {
	versions []int // in the order given, current first
	current  string
}

// ParseSecretList reads the list as Better Auth does (split at ",", each entry and secret
// trimmed as JavaScript's String.prototype.trim trims, the version before the first ":"),
// refusing what Better Auth refuses (no ":", a version that is not a non-negative integer,
// an empty secret, a version twice) and, unlike Better Auth, which only warns about its
// current secret, every secret ValidateSecret refuses. Errors name entries by position and
// version, never by content.
func ParseSecretList(spec string) (SecretList, error) {
	var l SecretList
	for i, entry := range strings.Split(spec, ",") {
		pos := i + 1
		versionText, secret, ok := strings.Cut(jsTrim(entry), ":")
		if !ok {
			return SecretList{}, fmt.Errorf("betterauth: entry %d: expected <version>:<secret>", pos)
		}
		version, ok := parseVersion(versionText)
		if !ok {
			return SecretList{}, fmt.Errorf("betterauth: entry %d: the version must be a non-negative integer", pos)
		}
		if slices.Contains(l.versions, version) {
			return SecretList{}, fmt.Errorf("betterauth: entry %d: version %d appears twice", pos, version)
		}
		secret = jsTrim(secret)
		if secret == "" {
			return SecretList{}, fmt.Errorf("betterauth: entry %d (version %d): the secret is empty", pos, version)
		}
		if weak := weakness(secret); weak != "" {
			return SecretList{}, fmt.Errorf("betterauth: entry %d (version %d): secret %s", pos, version, weak)
		}
		l.versions = append(l.versions, version)
		if pos == 1 {
			l.current = secret
		}
	}
	return l, nil
}

// Current is the first entry: the version and secret Better Auth signs sessions with.
func (l SecretList) Current() (version int, secret string) {
	if len(l.versions) == 0 {
		return 0, ""
	}
	return l.versions[0], l.current
}

// Format keeps the secret out of logs: only the versions print, whatever the verb.
func (l SecretList) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, fmt.Sprintf("betterauth.SecretList{versions: %v}", l.versions))
}

// parseVersion accepts decimal digits only: stricter than Better Auth's parseInt, which
// would also read "2abc" as 2.
func parseVersion(s string) (int, bool) {
	s = jsTrim(s)
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

// jsTrim trims what JavaScript's String.prototype.trim does: its white space (tab,
// vertical tab, form feed, space, no-break space, the byte order mark and every other
// space separator) and line terminators. Go's strings.TrimSpace differs on U+FEFF and U+0085.
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', '\u2028', '\u2029', '\uFEFF':
			return true
		}
		return unicode.Is(unicode.Zs, r)
	})
}
