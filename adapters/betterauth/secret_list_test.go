package betterauth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	listNew = "Zq3v9X0tL2mN8pR4sT6uW1yA5cE7gI9kO0bD2fH4jL6nP8rT0vX2zB4dF6hJ8lN0"
	listOld = testSecret
)

// The first entry is current, whatever the version numbers; entries and secrets are
// trimmed as Better Auth trims them (JavaScript's trim), and a secret may contain ":".
func TestParseSecretList(t *testing.T) {
	for name, tc := range map[string]struct {
		spec        string
		wantVersion int
		wantSecret  string
	}{
		"one entry":                 {"1:" + listNew, 1, listNew},
		"newest first":              {"2:" + listNew + ",1:" + listOld, 2, listNew},
		"versions in any order":     {"1:" + listNew + ",7:" + listOld, 1, listNew},
		"version zero":              {"0:" + listNew, 0, listNew},
		"a colon in the secret":     {"3:" + listNew + ":x", 3, listNew + ":x"},
		"white space and newlines":  {" \t2 : " + listNew + " \n, 1:" + listOld + "\n", 2, listNew},
		"byte order mark":           {"\uFEFF2:" + listNew + "\u3000", 2, listNew},
		"next line is not trimmed":  {"2:" + listNew + "\u0085", 2, listNew + "\u0085"},
		"later entries are checked": {"2:" + listNew + ",1:" + listOld + ",0:" + listNew + "x", 2, listNew},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := ParseSecretList(tc.spec)
			require.NoError(t, err)
			version, secret := l.Current()
			require.Equal(t, tc.wantVersion, version)
			require.Equal(t, tc.wantSecret, secret)
		})
	}
}

// What Better Auth refuses, and every secret ValidateSecret refuses, in any entry; the
// errors name the entry and its version, never a secret.
func TestParseSecretListRefuses(t *testing.T) {
	weak := strings.Repeat("k", 40)
	for name, tc := range map[string]struct {
		spec, want string
	}{
		"empty":                 {"", "entry 1: expected <version>:<secret>"},
		"only white space":      {" \n", "entry 1: expected <version>:<secret>"},
		"no version":            {listNew, "entry 1: expected <version>:<secret>"},
		"trailing comma":        {"1:" + listNew + ",", "entry 2: expected <version>:<secret>"},
		"empty version":         {":" + listNew, "entry 1: the version must be a non-negative integer"},
		"negative version":      {"-1:" + listNew, "entry 1: the version must be a non-negative integer"},
		"letters in version":    {"2:" + listNew + ",1abc:" + listOld, "entry 2: the version must be a non-negative integer"},
		"fraction":              {"1.5:" + listNew, "entry 1: the version must be a non-negative integer"},
		"huge version":          {"12345678901:" + listNew, "entry 1: the version must be a non-negative integer"},
		"version twice":         {"2:" + listNew + ",2:" + listOld, "entry 2: version 2 appears twice"},
		"empty secret":          {"2:" + listNew + ",1: \t", "entry 2 (version 1): the secret is empty"},
		"short secret":          {"1:tiny-9Qz", "entry 1 (version 1): secret is shorter than 32 bytes"},
		"Better Auth's default": {"1:better-auth-secret-12345678901234567890", "entry 1 (version 1): secret is Better Auth's public built-in default"},
		"weak later secret":     {"2:" + listNew + ",1:" + weak, "entry 2 (version 1): secret has low entropy"},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := ParseSecretList(tc.spec)
			require.ErrorContains(t, err, "betterauth: "+tc.want)
			require.Equal(t, SecretList{}, l)
			for _, secret := range []string{listNew, listOld, weak, "tiny-9Qz"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestSecretListPrintsOnlyVersions(t *testing.T) {
	l, err := ParseSecretList("2:" + listNew + ",1:" + listOld)
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		require.Equal(t, "betterauth.SecretList{versions: [2 1]}", fmt.Sprintf(verb, l), verb)
	}
}
