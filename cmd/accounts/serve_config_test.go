package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// serveEnv is a configuration `serve` accepts, with the given variables changed.
func serveEnv(changes map[string]string) Environment {
	env := map[string]string{"BETTER_AUTH_SECRET": servicetest.Secret, "CREDENTIAL_KEYS": servicetest.Keys}
	for k, v := range changes {
		env[k] = v
	}
	return envOf(env)
}

func TestCheckServeAcceptsTheDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(serveEnv(nil))
	require.NoError(t, err)
	require.NoError(t, cfg.checkServe())
	for _, url := range []string{"http://127.0.0.1:8080", "http://localhost:9999/v2-proxy", "http://[::1]:1234", "HTTPS://paper-api.alpaca.markets"} {
		cfg, err := LoadConfig(serveEnv(map[string]string{"ALPACA_PAPER_URL": url, "ALPACA_LIVE_URL": url}))
		require.NoError(t, err)
		require.NoError(t, cfg.checkServe(), "%s", url)
	}
}

// Each dangerous setting is refused in one line that names its variable.
func TestCheckServeRefusesDangerousConfiguration(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"plain http paper URL":         {map[string]string{"ALPACA_PAPER_URL": "http://paper-api.alpaca.markets"}, "ALPACA_PAPER_URL must be an https URL"},
		"plain http live URL":          {map[string]string{"ALPACA_LIVE_URL": "http://10.0.0.7:8080"}, "ALPACA_LIVE_URL must be an https URL"},
		"loopback look-alike":          {map[string]string{"ALPACA_LIVE_URL": "http://127.0.0.1.evil.example"}, "ALPACA_LIVE_URL must be an https URL"},
		"another scheme":               {map[string]string{"ALPACA_PAPER_URL": "ftp://paper-api.alpaca.markets"}, "ALPACA_PAPER_URL must be an https URL"},
		"userinfo in the URL":          {map[string]string{"ALPACA_LIVE_URL": "https://user:pw@api.alpaca.markets"}, "ALPACA_LIVE_URL: alpaca: live URL must not contain userinfo"},
		"repeated character secret":    {map[string]string{"BETTER_AUTH_SECRET": strings.Repeat("x", 48)}, "BETTER_AUTH_SECRET: betterauth: secret has low entropy"},
		"short secret":                 {map[string]string{"BETTER_AUTH_SECRET": "tiny-9Qz"}, "BETTER_AUTH_SECRET: betterauth: secret is shorter than 32 bytes"},
		"no credential keys":           {map[string]string{"CREDENTIAL_KEYS": ""}, "CREDENTIAL_KEYS"},
		"broker timeout past deadline": {map[string]string{"BROKER_TIMEOUT": "30s"}, "BROKER_TIMEOUT (30s) must be below REQUEST_TIMEOUT (5s)"},
		"broker timeout at deadline":   {map[string]string{"BROKER_TIMEOUT": "2s", "REQUEST_TIMEOUT": "2s"}, "BROKER_TIMEOUT (2s) must be below REQUEST_TIMEOUT (2s)"},
		"acquire timeout at deadline":  {map[string]string{"DB_ACQUIRE_TIMEOUT": "5s"}, "DB_ACQUIRE_TIMEOUT (5s) must be below REQUEST_TIMEOUT (5s)"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(serveEnv(tc.env))
			require.NoError(t, err)
			err = cfg.checkServe()
			require.Error(t, err)
			require.Equal(t, []string{tc.want}, matchingLines(err.Error(), tc.want), "one line names the problem:\n%s", err)
			require.NotContains(t, err.Error(), "pw@", "a URL's userinfo is never printed")
			if secret := tc.env["BETTER_AUTH_SECRET"]; secret != "" {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

// matchingLines returns the lines of s that begin with prefix, cut to the prefix.
func matchingLines(s, prefix string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, prefix)
		}
	}
	return out
}
