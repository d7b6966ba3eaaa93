package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// The dev session as a newcomer uses it: refused without ACCOUNTS_DEV=1, then one command
// gives a cookie and a bearer header the running service accepts, for a user Better Auth
// would have made, and curl lines for every endpoint.
func TestDevSessionSignsInANewcomer(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)

	code, out := servicetest.Run(t, 30*time.Second, dbURL, []string{"dev-session", "--email", "you@example.test"})
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "ACCOUNTS_DEV=1", "it says why")

	code, out = servicetest.Run(t, 30*time.Second, dbURL, []string{"dev-session", "--email", "You@Example.test", "--json"}, "ACCOUNTS_DEV=1")
	require.Equal(t, 0, code, out)
	var s struct {
		UserID        string `json:"user_id"`
		Cookie        string `json:"cookie"`
		Authorization string `json:"authorization"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &s), "one JSON object and nothing else: %s", out)
	require.Regexp(t, `^[A-Za-z0-9]{32}$`, s.UserID)
	require.True(t, strings.HasPrefix(s.Cookie, servicetest.CookieName+"="), s.Cookie)
	require.Regexp(t, `^Bearer [A-Za-z0-9]{32}\.[A-Za-z0-9+/]{43}=$`, s.Authorization)

	res := request(t, svc, "POST", "/api/accounts/get-or-create", "", "Authorization", s.Authorization)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, s.UserID, res.body["account"].(map[string]any)["user_id"])
	res = request(t, svc, "GET", "/api/accounts", "", "Cookie", s.Cookie)
	require.Equal(t, 200, res.status, res.raw)
	require.EqualValues(t, 1, res.body["count"])

	// What Better Auth would have written.
	var email, name, token, agent string
	var verified bool
	var days float64
	servicetest.QueryRow(t, dbURL, `SELECT u.email, u.name, u."emailVerified", s.token, s."userAgent",
		extract(epoch FROM s."expiresAt" - s."createdAt") / 86400 FROM "user" u JOIN "session" s ON s."userId" = u.id`,
		&email, &name, &verified, &token, &agent, &days)
	require.Equal(t, []string{"you@example.test", "you", "accounts dev-session"}, []string{email, name, agent})
	require.False(t, verified)
	require.Regexp(t, `^[A-Za-z0-9]{32}$`, token)
	require.InDelta(t, 7, days, 0.001, "Better Auth's default expiry")

	// Again: the same user, a new session, and the human form with a curl line per route.
	code, out = servicetest.Run(t, 30*time.Second, dbURL, []string{"dev-session", "--email", "you@example.test"}, "ACCOUNTS_DEV=1")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "user "+s.UserID+", found")
	require.NotContains(t, out, strings.TrimPrefix(s.Authorization, "Bearer "), "a fresh token")
	for _, route := range []string{"GET /api/accounts", "POST /api/accounts/get-or-create", "POST /api/accounts",
		"POST /api/credentials/store", "GET /api/credentials?account_id=ACCOUNT_ID", "PUT /api/credentials/CREDENTIAL_ID",
		"POST /api/credentials/CREDENTIAL_ID/validate", "GET /api/credentials/CREDENTIAL_ID/account-data",
		"GET /api/credentials/CREDENTIAL_ID/events", "DELETE /api/credentials/CREDENTIAL_ID"} {
		method, path, _ := strings.Cut(route, " ")
		flag := ""
		if method != "GET" {
			flag = "-X " + method + " "
		}
		line := regexp.MustCompile(`(?m)^  curl -s ` + regexp.QuoteMeta(flag) + `.*` + regexp.QuoteMeta(path) + `('|$)`)
		require.Regexp(t, line, out, "a curl line for %s", route)
	}
	var sessions int
	servicetest.QueryRow(t, dbURL, `SELECT count(*) FROM "session"`, &sessions)
	require.Equal(t, 2, sessions)
}
