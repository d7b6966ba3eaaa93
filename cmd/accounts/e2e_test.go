package main

import (
	"testing"

	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/stretchr/testify/require"
)

// TestEndToEnd runs the real binary against a database it creates and migrates itself.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)

	require.Equal(t, 200, request(t, svc, "GET", "/healthz", "").status)
	require.Equal(t, 200, request(t, svc, "GET", "/readyz", "").status)

	alice := cookieFor(t, dbURL, "alice-e2e")
	bob := cookieFor(t, dbURL, "bob-e2e")
	origin := "http://app.test"

	t.Run("no session is 401 problem JSON", func(t *testing.T) {
		res := request(t, svc, "GET", "/api/accounts", "")
		require.Equal(t, 401, res.status)
		require.Equal(t, "application/problem+json", res.header.Get("Content-Type"))
		require.Equal(t, "unauthenticated", res.body["code"])
	})

	t.Run("a new user has no accounts", func(t *testing.T) {
		res := request(t, svc, "GET", "/api/accounts", "", "Cookie", alice)
		require.Equal(t, 200, res.status)
		require.Equal(t, "success", res.body["status"])
		require.EqualValues(t, 0, res.body["count"])
	})

	var created map[string]any
	t.Run("create, then 409", func(t *testing.T) {
		res := request(t, svc, "POST", "/api/accounts", `{"account_name":"  Alice main  ","user_id":"bob-e2e"}`, "Cookie", alice, "Origin", origin)
		require.Equal(t, 201, res.status, res.raw)
		created = res.body
		require.Equal(t, "Alice main", created["account_name"])
		require.Equal(t, "alice-e2e", created["user_id"], "the owner comes from the session, never the body")
		require.Equal(t, true, created["is_active"])

		res = request(t, svc, "POST", "/api/accounts", `{"account_name":"again"}`, "Cookie", alice, "Origin", origin)
		require.Equal(t, 409, res.status)
		require.Equal(t, "account_exists", res.body["code"])
	})

	t.Run("get-or-create returns the existing account", func(t *testing.T) {
		res := request(t, svc, "POST", "/api/accounts/get-or-create", "", "Cookie", alice, "Origin", origin)
		require.Equal(t, 200, res.status, res.raw)
		require.Equal(t, false, res.body["created"])
		require.Equal(t, created["id"], res.body["account"].(map[string]any)["id"])
	})

	t.Run("bob is isolated from alice and gets his own default account", func(t *testing.T) {
		res := request(t, svc, "GET", "/api/accounts", "", "Cookie", bob)
		require.Equal(t, 200, res.status)
		require.EqualValues(t, 0, res.body["count"])

		res = request(t, svc, "POST", "/api/accounts/get-or-create", "{}", "Cookie", bob, "Origin", origin)
		require.Equal(t, 200, res.status, res.raw)
		require.Equal(t, true, res.body["created"])
		account := res.body["account"].(map[string]any)
		require.Equal(t, "Default Alpaca Account", account["account_name"])
		require.Equal(t, "bob-e2e", account["user_id"])
	})

	t.Run("a cookie write from a foreign origin is refused", func(t *testing.T) {
		res := request(t, svc, "POST", "/api/accounts", `{"account_name":"x"}`, "Cookie", bob, "Origin", "https://evil.example")
		require.Equal(t, 403, res.status)
		require.Equal(t, "forbidden_origin", res.body["code"])
	})

	t.Run("a signed-out session is refused", func(t *testing.T) {
		servicetest.Exec(t, dbURL, `DELETE FROM "session" WHERE "userId" = 'bob-e2e'`)
		require.Equal(t, 401, request(t, svc, "GET", "/api/accounts", "", "Cookie", bob).status, "on the very next request")
	})

	require.Equal(t, 0, svc.Stop(t), "SIGTERM is a clean shutdown")
	require.NotContains(t, svc.Logs.String(), "session_token", "cookies never reach the logs")
}

// TestRel06_ServeRefusesWeakSecrets: the binary must exit non-zero, before it listens, with a
// secret anyone could forge cookies with.
func TestRel06_ServeRefusesWeakSecrets(t *testing.T) {
	t.Parallel()
	for name, secret := range map[string]string{
		"missing":             "",
		"short":               "too-short-secret",
		"better-auth default": "better-auth-secret-12345678901234567890",
	} {
		t.Run(name, func(t *testing.T) {
			code, out := runServe(t, []string{"BETTER_AUTH_SECRET=" + secret, "CREDENTIAL_KEYS=" + servicetest.Keys}, "serve")
			require.NotEqual(t, 0, code, out)
			require.Contains(t, out, "BETTER_AUTH_SECRET")
			require.NotContains(t, out, `"msg":"listening"`)
			if secret != "" {
				require.NotContains(t, out, secret, "the secret itself is never printed")
			}
		})
	}
}

// TestRel28_ServeRefusesMissingOrBadCredentialKeys: no usable key, no start.
func TestRel28_ServeRefusesMissingOrBadCredentialKeys(t *testing.T) {
	t.Parallel()
	for name, keys := range map[string]string{
		"missing":    "",
		"short key":  "k1:c2hvcnQ=",
		"not base64": "k1:not-base64!!",
		"no id":      ":JF6DYEkdJet7T5vPqHVYfqOd8TZrC3JvrdygEZCvfJw=",
	} {
		t.Run(name, func(t *testing.T) {
			code, out := runServe(t, []string{"BETTER_AUTH_SECRET=" + servicetest.Secret, "CREDENTIAL_KEYS=" + keys}, "serve")
			require.NotEqual(t, 0, code, out)
			require.Contains(t, out, "CREDENTIAL_KEYS")
			require.NotContains(t, out, `"msg":"listening"`)
		})
	}
}
