package main

// The binary's refusals of dangerous configuration, as an operator sees them: one line per
// problem naming the variable, no framework dump, no source path, a non-zero exit, and
// never a listening socket.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

var sourcePath = regexp.MustCompile(`\.go:\d+|/cmd/accounts/|goroutine |fx\.|errorVerbose`)

func TestRel06_ServeRefusesLowEntropySecrets(t *testing.T) {
	t.Parallel()
	for name, secret := range map[string]string{
		"one character repeated": strings.Repeat("s", 64),
		"two characters":         strings.Repeat("0f", 32),
	} {
		t.Run(name, func(t *testing.T) {
			code, out := runServe(t, []string{"BETTER_AUTH_SECRET=" + secret, "CREDENTIAL_KEYS=" + servicetest.Keys}, "serve")
			require.NotEqual(t, 0, code, out)
			require.Contains(t, out, "BETTER_AUTH_SECRET: betterauth: secret has low entropy")
			require.NotContains(t, out, secret)
			require.NotContains(t, out, `"msg":"listening"`)
		})
	}
}

func TestServeRefusesDangerousConfigurationInOneLineEach(t *testing.T) {
	t.Parallel()
	good := []string{"BETTER_AUTH_SECRET=" + servicetest.Secret, "CREDENTIAL_KEYS=" + servicetest.Keys}
	for name, tc := range map[string]struct {
		env  []string
		want []string
	}{
		"plain http to Alpaca": {[]string{"ALPACA_PAPER_URL=http://paper-api.alpaca.markets", "ALPACA_LIVE_URL=http://api.alpaca.markets"},
			[]string{"ALPACA_PAPER_URL must be an https URL", "ALPACA_LIVE_URL must be an https URL"}},
		"broker timeout past the request deadline":  {[]string{"BROKER_TIMEOUT=30s"}, []string{"BROKER_TIMEOUT (30s) must be below REQUEST_TIMEOUT (5s)"}},
		"acquire timeout past the request deadline": {[]string{"DB_ACQUIRE_TIMEOUT=10s"}, []string{"DB_ACQUIRE_TIMEOUT (10s) must be below REQUEST_TIMEOUT (5s)"}},
		"several at once": {[]string{"BETTER_AUTH_SECRET=" + strings.Repeat("k", 40), "ALPACA_LIVE_URL=http://10.1.2.3", "BROKER_TIMEOUT=5s"},
			[]string{"BETTER_AUTH_SECRET: betterauth: secret has low entropy", "ALPACA_LIVE_URL must be an https URL", "BROKER_TIMEOUT (5s) must be below"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, out := runServe(t, append(append([]string{}, good...), tc.env...), "serve")
			require.Equal(t, 2, code, out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Equal(t, "accounts: invalid configuration:", lines[0], out)
			require.Len(t, lines, 1+len(tc.want), "one line per problem:\n%s", out)
			for i, want := range tc.want {
				require.True(t, strings.HasPrefix(lines[1+i], want), "line %d is %q, want %q", 1+i, lines[1+i], want)
			}
			require.NotRegexp(t, sourcePath, out, "no framework dump, no source path")
		})
	}
}

func TestHelpNeedsNoConfigurationAndExitsZero(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"serve", "--help"}, {"migrate", "-h"},
		{"credentials", "--help"}, {"credentials", "rotate", "--help"}, {"credentials", "generate-key", "-help"}} {
		code, out := runServe(t, nil, args...)
		require.Equal(t, 0, code, "%v:\n%s", args, out)
		require.Contains(t, out, "usage: accounts", "%v", args)
		require.NotContains(t, out, "invalid configuration")
	}
	code, out := runServe(t, nil, "serve", "--no-such-flag")
	require.Equal(t, 2, code, out)
}
