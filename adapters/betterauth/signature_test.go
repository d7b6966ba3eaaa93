package betterauth

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Interop: SignValue reproduces byte for byte the cookies Better Auth 1.7.25 set.
func TestSignValue_MatchesRealBetterAuthCookies(t *testing.T) {
	tests := []struct {
		name, token, want string
	}{
		{"cookie 1", realToken1, realCookie1},
		{"cookie 2", realToken2, realCookie2},
		{"independent encoder", "tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO", betterAuthCookie(testSecret, "tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, SignValue(testSecret, tt.token))
		})
	}
}

// The bearer form is the same value before it is URL-encoded.
func TestSignToken_IsTheRealBetterAuthBearer(t *testing.T) {
	require.Equal(t, realToken1+"."+realSig1, SignToken(testSecret, realToken1))
	require.Equal(t, realToken2+"."+realSig2, SignToken(testSecret, realToken2))
}

func TestEncodeURIComponent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcXYZ019", "abcXYZ019"},
		{"-_.!~*'()", "-_.!~*'()"},
		{"+/=", "%2B%2F%3D"},
		{"a b;c%", "a%20b%3Bc%25"},
		{"é", "%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, encodeURIComponent(tt.in))
		})
	}
}

// The real signatures decode, and the shape checks return the token and the exact
// signature bytes; this pins parseSigned to the examples of docs/better-auth.md.
func TestParseSigned_RealCookies(t *testing.T) {
	tests := []struct{ name, raw, token, sig string }{
		{"encoded 1", realCookie1, realToken1, realSig1},
		{"encoded 2", realCookie2, realToken2, realSig2},
		{"raw 1", realToken1 + "." + realSig1, realToken1, realSig1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, sig, err := parseSigned(tt.raw)
			require.NoError(t, err)
			require.Equal(t, tt.token, token)
			require.Equal(t, tt.sig, strictBase64.EncodeToString(sig))
		})
	}
}

// Reliability test 2 asks that signatures be compared only with hmac.Equal. This checks
// the package's own sources so a regression fails here, before any CI grep.
func TestRel02_SignaturesComparedOnlyWithHMACEqual(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	hmacEquals := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		text := string(src)
		for _, banned := range []string{"bytes.Equal(", "subtle.ConstantTimeCompare(", "reflect.DeepEqual("} {
			require.NotContains(t, text, banned, "%s: compare signatures with hmac.Equal only", f)
		}
		hmacEquals += strings.Count(text, "hmac.Equal(")
	}
	require.Equal(t, 1, hmacEquals, "exactly one signature comparison, in verifySigned")
}

// Reliability test 2's CI grep over the whole repository: every non-test Go file that
// computes an HMAC compares MACs with hmac.Equal or not at all (cmd/bench only signs), no
// other constant-time or plain comparison is used anywhere, and the one hmac.Equal is the
// verifier's.
func TestRel02_CIGrepSignatureComparisons(t *testing.T) {
	root := filepath.Join("..", "..")
	plainCompare := regexp.MustCompile(`bytes\.Equal\(|subtle\.ConstantTimeCompare\(|reflect\.DeepEqual\(|Sum\(nil\)\)?\s*[!=]=|[!=]=\s*\S*Sum\(nil\)`)
	var macFiles, equalFiles []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(src)
		require.NotContains(t, text, "subtle.ConstantTimeCompare(", "%s: compare signatures with hmac.Equal", path)
		if strings.Contains(text, "hmac.Equal(") {
			equalFiles = append(equalFiles, path)
		}
		if strings.Contains(text, "hmac.New(") {
			macFiles = append(macFiles, path)
			require.Nil(t, plainCompare.FindStringIndex(text), "%s: a MAC compared with %q, not hmac.Equal", path, plainCompare.FindString(text))
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, macFiles, filepath.Join(root, "adapters", "betterauth", "signature.go"), "the scan reaches the verifier")
	require.Equal(t, []string{filepath.Join(root, "adapters", "betterauth", "signature.go")}, equalFiles)
	require.Regexp(t, plainCompare, "if string(mac.Sum(nil)) == sig {", "the control: a plain comparison is found")
}
