package betterauth

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCookieNames(t *testing.T) {
	tests := []struct {
		name       string
		prefix     string
		secureOnly bool
		want       []string
	}{
		{"production default", "", true, []string{"__Secure-better-auth.session_token"}},
		{"development default", "", false, []string{"__Secure-better-auth.session_token", "better-auth.session_token"}},
		{"explicit default prefix", "better-auth", true, []string{"__Secure-better-auth.session_token"}},
		{"custom prefix, secure only", "myapp", true, []string{"__Secure-myapp.session_token"}},
		{"custom prefix", "myapp", false, []string{"__Secure-myapp.session_token", "myapp.session_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, CookieNames(tt.prefix, tt.secureOnly))
		})
	}
}
