package betterauth

import (
	"strings"
	"testing"

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
		{"32 bytes", strings.Repeat("k", 32), ""},
		{"spec test secret", testSecret, ""},
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
