package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/betterauth"
	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/brokerly/accounts/ports"
)

const (
	rotatedSecret = "Zq3v9X0tL2mN8pR4sT6uW1yA5cE7gI9kO0bD2fH4jL6nP8rT0vX2zB4dF6hJ8lN0"
	sessionToken  = "tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO"
)

// verifies says whether v accepts token signed with secret, as a cookie and as a bearer token.
func verifies(t *testing.T, v ports.SessionVerifier, secret string) bool {
	t.Helper()
	_, cookieErr := v.Verify(ports.SessionProof{Cookie: betterauth.SignValue(secret, sessionToken)})
	_, bearerErr := v.Verify(ports.SessionProof{Bearer: betterauth.SignToken(secret, sessionToken)})
	require.Equal(t, cookieErr == nil, bearerErr == nil, "cookie and bearer agree")
	return cookieErr == nil
}

// With BETTER_AUTH_SECRETS the service verifies with its first entry only, as Better Auth
// 1.7.25 does: a signature under an older entry, or under BETTER_AUTH_SECRET set beside
// the list, is refused.
func TestVerifierUsesTheSecretBetterAuthSignsWith(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env      map[string]string
		accepted string
		refused  []string
	}{
		"BETTER_AUTH_SECRET alone": {map[string]string{"BETTER_AUTH_SECRET": servicetest.Secret}, servicetest.Secret, []string{rotatedSecret}},
		"a list of one":            {map[string]string{"BETTER_AUTH_SECRETS": "1:" + servicetest.Secret}, servicetest.Secret, []string{rotatedSecret}},
		"after a rotation": {map[string]string{"BETTER_AUTH_SECRETS": "2:" + rotatedSecret + ",1:" + servicetest.Secret},
			rotatedSecret, []string{servicetest.Secret}},
		"the list wins over BETTER_AUTH_SECRET": {map[string]string{"BETTER_AUTH_SECRETS": "2:" + rotatedSecret, "BETTER_AUTH_SECRET": servicetest.Secret},
			rotatedSecret, []string{servicetest.Secret}},
		"even over a weak BETTER_AUTH_SECRET, which signs nothing": {map[string]string{"BETTER_AUTH_SECRETS": "2:" + rotatedSecret, "BETTER_AUTH_SECRET": "x"},
			rotatedSecret, []string{"x"}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.env["CREDENTIAL_KEYS"] = servicetest.Keys
			cfg, err := LoadConfig(envOf(tc.env))
			require.NoError(t, err)
			require.NoError(t, cfg.checkServe(), "a configuration serve accepts")
			v, err := newVerifier(cfg, zap.NewNop())
			require.NoError(t, err)
			require.True(t, verifies(t, v, tc.accepted))
			for _, s := range tc.refused {
				require.False(t, verifies(t, v, s), "signed with %q", s)
			}
		})
	}
}

// A list serve must not run with is one line naming BETTER_AUTH_SECRETS, never a secret.
func TestCheckServeRefusesABadSecretList(t *testing.T) {
	t.Parallel()
	weak := strings.Repeat("w", 48)
	for name, tc := range map[string]struct{ secrets, want string }{
		"weak older entry": {"2:" + rotatedSecret + ",1:" + weak, "BETTER_AUTH_SECRETS: betterauth: entry 2 (version 1): secret has low entropy"},
		"not a list":       {rotatedSecret, "BETTER_AUTH_SECRETS: betterauth: entry 1: expected <version>:<secret>"},
		"version twice":    {"1:" + rotatedSecret + ",1:" + servicetest.Secret, "BETTER_AUTH_SECRETS: betterauth: entry 2: version 1 appears twice"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(serveEnv(map[string]string{"BETTER_AUTH_SECRETS": tc.secrets}))
			require.NoError(t, err)
			err = cfg.checkServe()
			require.Error(t, err)
			require.Equal(t, []string{tc.want}, matchingLines(err.Error(), tc.want), "one line names the problem:\n%s", err)
			require.Equal(t, 1, strings.Count(err.Error(), "\n")+1, "and it is the only one:\n%s", err)
			for _, s := range []string{rotatedSecret, weak, servicetest.Secret} {
				require.NotContains(t, err.Error(), s)
			}
		})
	}
}
