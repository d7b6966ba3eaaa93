package betterauth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateSecret(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		wantErr string
	}{
		{"empty", "", "empty"},
		{"one byte", "x", "shorter than 32 bytes"},
		{"31 bytes", strings.Repeat("k", 31), "shorter than 32 bytes"},
		{"Better Auth default", "better-auth-secret-12345678901234567890", "built-in default"},
		{"one character repeated", strings.Repeat("k", 64), "low entropy"},
		{"two characters alternating", strings.Repeat("ab", 40), "low entropy"},
		{"32 bytes of 13 characters", "abcdefghijklmabcdefghijklmabcdef", "low entropy"},
		{"32 bytes of 14 characters", "abcdefghijklmnabcdefghijklmnabcd", ""},
		{"spec test secret", testSecret, ""},
		{"openssl rand -base64 32", "3q2+7w8KhJmV0pXo6YbC1sTn5uRzLdEa9gFiQkWlMtA=", ""},
		{"long random", "Zq3v9X0tL2mN8pR4sT6uW1yA5cE7gI9kO0bD2fH4jL6nP8rT0vX2zB4dF6hJ8lN0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSecret(tt.secret)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			if tt.secret != "" {
				require.NotContains(t, err.Error(), tt.secret, "the error must not reveal the secret")
			}
		})
	}
}

// The estimate is Better Auth's, Math.log2(Math.pow(new Set(s).size, s.length)); the
// expected values are what Node prints for it.
func TestEstimatedEntropyBitsIsBetterAuths(t *testing.T) {
	for s, want := range map[string]float64{
		"":                                 0,
		strings.Repeat("a", 100):           0,
		"abcdefghijklmabcdefghijklmabcdef": 118.41407098051495,
		"abcdefghijklmnabcdefghijklmnabcd": 121.83535750584333,
		"€€😀😀":                             6, // 2 distinct code points, 6 UTF-16 units
		strings.Repeat("é", 40) + "xyz":    86,
		"e2e-test-secret-not-for-production-0123456789": 203.56028802256557,
	} {
		assert.InDelta(t, want, estimatedEntropyBits(s), 1e-9, "%q", s)
	}
}
