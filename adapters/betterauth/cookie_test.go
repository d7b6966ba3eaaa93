package betterauth

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// One name per mode, as Better Auth computes it; the interop test checks the same against
// the real package.
func TestCookieName(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		secure bool
		want   string
	}{
		{"secure, default prefix", "", true, "__Secure-better-auth.session_token"},
		{"plain, default prefix", "", false, "better-auth.session_token"},
		{"secure, explicit default prefix", "better-auth", true, "__Secure-better-auth.session_token"},
		{"secure, custom prefix", "myapp", true, "__Secure-myapp.session_token"},
		{"plain, custom prefix", "myapp", false, "myapp.session_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, CookieName(tt.prefix, tt.secure))
		})
	}
}
