package main

// Reliability tests 1-5 and 7 (authentication) against the real binary and PostgreSQL.

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const uniform401 = `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"A valid session is required.","code":"unauthenticated"}`

// Test 1: no or garbage credentials are a 401 with one body, and cost no database
// connection: the number of sessions on the database is the same before and after.
func TestRel01_GarbageCookieUsesNoDatabaseConnection(t *testing.T) {
	dbURL := databaseURL(t)
	svc := startService(t, dbURL)
	alice := newSessions(t, dbURL, "alice-01", 1)[0]
	forged := alice.token + "." + sign("another-secret-of-sufficient-length-0123456789", alice.token)
	garbage := [][]string{
		{},
		{"Cookie", devCookie + "=garbage"},
		{"Cookie", devCookie + "="},
		{"Cookie", devCookie + "=" + alice.token},
		{"Cookie", devCookie + "=" + url.QueryEscape(forged)},
		{"Cookie", devCookie + "=" + strings.Repeat("%41", 2000)},
		{"Cookie", "session=" + alice.value()},
		{"Authorization", "Bearer garbage"},
		{"Authorization", "Bearer " + forged},
		{"Authorization", "Basic dXNlcjpwYXNz"},
	}

	settle := func() int {
		t.Helper()
		prev := -1
		for range 50 {
			n := backends(t, dbURL)
			if n == prev {
				return n
			}
			prev = n
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatal("the number of database sessions never settled")
		return 0
	}
	before := settle()
	for i := range 50 {
		headers := garbage[i%len(garbage)]
		method, path := "GET", "/api/accounts"
		if i%3 == 1 {
			method, path = "POST", "/api/accounts/get-or-create"
			headers = append(headers[:len(headers):len(headers)], "Origin", relOrigin)
		}
		res := svc.call(t, method, path, "", headers...)
		require.Equal(t, 401, res.status, "%v: %s", headers, res.raw)
		require.JSONEq(t, uniform401, res.raw)
		require.Equal(t, "Bearer", res.header.Get("WWW-Authenticate"))
	}
	require.Equal(t, before, backends(t, dbURL), "50 refused requests opened no database session")
	require.Equal(t, 200, svc.call(t, "GET", "/api/accounts", "", "Cookie", alice.cookie()).status, "the control: a real session works")
}

// Test 2: every kind of tampering gets the same 401, byte for byte (the signature check
// itself is hmac.Equal: TestRel02_CIGrepSignatureComparisons in adapters/betterauth).
func TestRel02_TamperedCookiesAreIdentical401s(t *testing.T) {
	dbURL := databaseURL(t)
	svc := startService(t, dbURL)
	alice := newSessions(t, dbURL, "alice-02", 1)[0]
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
		return string(b)
	}
	tampered := map[string]string{
		"flipped signature character": alice.token + "." + flip(alice.sig, 10),
		"no .sig":                     alice.token,
		"43-character signature":      alice.token + "." + alice.sig[:43],
		"another secret's signature":  alice.token + "." + sign("another-secret-of-sufficient-length-0123456789", alice.token),
		"altered token":               flip(alice.token, 0) + "." + alice.sig,
		"token of another session":    randomHex(16) + "." + alice.sig,
	}
	bodies := map[string]bool{}
	for name, v := range tampered {
		for _, headers := range [][]string{{"Cookie", devCookie + "=" + url.QueryEscape(v)}, {"Authorization", "Bearer " + v}} {
			res := svc.call(t, "GET", "/api/accounts", "", headers...)
			require.Equal(t, 401, res.status, "%s: %s", name, res.raw)
			bodies[res.raw] = true
		}
	}
	bodies[svc.call(t, "GET", "/api/accounts", "").raw] = true
	require.Len(t, bodies, 1, "one body for every refusal: %v", bodies)
	require.Equal(t, 200, svc.call(t, "GET", "/api/accounts", "", "Cookie", alice.cookie()).status)
}

// Test 3: the cookie exactly as a browser sends it (%2B %2F %3D) works; encoded twice it is
// refused, because the service decodes once.
func TestRel03_CookieEncoding(t *testing.T) {
	dbURL := databaseURL(t)
	svc := startService(t, dbURL)
	var s relSession
	for i := range 200 { // a signature with both + and / (about one in four has neither)
		s = newSessions(t, dbURL, fmt.Sprintf("u03-%d", i), 1)[0]
		if strings.Contains(s.sig, "+") && strings.Contains(s.sig, "/") {
			break
		}
	}
	require.True(t, strings.Contains(s.sig, "+") && strings.Contains(s.sig, "/"), "no signature with + and / in 200 tries")
	browser := s.value()
	for _, esc := range []string{"%2B", "%2F", "%3D"} {
		require.Contains(t, browser, esc)
	}
	require.Equal(t, 200, svc.call(t, "GET", "/api/accounts", "", "Cookie", devCookie+"="+browser).status)

	twice := url.QueryEscape(browser)
	require.Contains(t, twice, "%252B")
	res := svc.call(t, "GET", "/api/accounts", "", "Cookie", devCookie+"="+twice)
	require.Equal(t, 401, res.status)
	require.JSONEq(t, uniform401, res.raw)
	require.Equal(t, 200, svc.call(t, "GET", "/api/accounts", "", "Authorization", s.bearer()).status, "bearer: the raw value")
}

// Test 4: a deleted or expired session stops working at once without the session cache, and
// within 1 s with it (the performance work's bound; Better Auth's cookieCache has the same
// kind of lag).
func TestRel04_RevocationAndExpiry(t *testing.T) {
	for name, cache := range map[string]string{"cached": "SESSION_CACHE_SIZE=100000", "uncached": "SESSION_CACHE_SIZE=0"} {
		t.Run(name, func(t *testing.T) {
			dbURL := databaseURL(t)
			svc := startService(t, dbURL, cache)
			users := newSessions(t, dbURL, "u04-"+name, 2)
			for what, revoke := range map[*relSession]string{
				&users[0]: `DELETE FROM "session" WHERE token = $1`,
				&users[1]: `UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE token = $1`,
			} {
				for range 3 { // a cache, if any, now holds the session
					require.Equal(t, 200, svc.call(t, "GET", "/api/accounts", "", "Cookie", what.cookie()).status)
				}
				sqlExec(t, dbURL, revoke, what.token)
				revoked := time.Now()
				var took time.Duration
				for {
					res := svc.call(t, "GET", "/api/accounts", "", "Cookie", what.cookie())
					if res.status == 401 {
						took = time.Since(revoked)
						break
					}
					require.Equal(t, 200, res.status, res.raw)
					require.Less(t, time.Since(revoked), time.Second, "%s: still accepted 1 s after %q", name, revoke)
					time.Sleep(20 * time.Millisecond)
				}
				t.Logf("%s: refused %s after %q", name, took.Round(time.Millisecond), revoke)
				if name == "uncached" {
					require.Less(t, took, 200*time.Millisecond, "without a cache the next request is refused")
				}
				for range 3 {
					require.Equal(t, 401, svc.call(t, "GET", "/api/accounts", "", "Cookie", what.cookie()).status, "and stays refused")
				}
			}
		})
	}
}

// Test 5: in production (BETTER_AUTH_SECURE_COOKIES=true) only the __Secure- cookie counts.
func TestRel05_ProductionReadsOnlyTheSecureCookie(t *testing.T) {
	dbURL := databaseURL(t)
	svc := startService(t, dbURL, "BETTER_AUTH_SECURE_COOKIES=true")
	alice := newSessions(t, dbURL, "alice-05", 1)[0]
	secure := "__Secure-" + devCookie

	res := svc.call(t, "GET", "/api/accounts", "", "Cookie", devCookie+"="+alice.value())
	require.Equal(t, 401, res.status)
	require.JSONEq(t, uniform401, res.raw)
	require.Equal(t, 200, svc.call(t, "GET", "/api/accounts", "", "Cookie", secure+"="+alice.value()).status)
	require.Equal(t, 401, svc.call(t, "GET", "/api/accounts", "", "Cookie", devCookie+"="+alice.value()+"; "+secure+"=garbage").status,
		"a valid unprefixed cookie does not rescue a bad secure one")
}

// Test 7: ids and owners come from the session and the server only: user_id, id, key_id and
// created_at in bodies, ?userId= and X-User-Id are ignored.
func TestRel07_IdentityFromTheSessionOnly(t *testing.T) {
	dbURL := databaseURL(t)
	svc := startService(t, dbURL)
	users := sessionsFor(t, dbURL, "alice-07", "bob-07")
	alice, bob := users[0], users[1]
	const planted = "00000000-0000-7000-8000-000000000007"
	spoof := append(bob.browser(), "X-User-Id", alice.userID, "X-Forwarded-User", alice.userID)

	res := svc.call(t, "POST", "/api/accounts?userId="+alice.userID+"&user_id="+alice.userID,
		fmt.Sprintf(`{"account_name":"Bob's","user_id":%q,"id":%q,"key_id":"k9","created_at":"2001-01-01T00:00:00Z","is_active":false}`, alice.userID, planted),
		spoof...)
	require.Equal(t, 201, res.status, res.raw)
	accountID := res.body["id"].(string)
	require.NotEqual(t, planted, accountID)
	require.Equal(t, bob.userID, res.body["user_id"])
	require.Equal(t, true, res.body["is_active"])

	var owner string
	var fresh bool
	queryRow(t, dbURL, `SELECT user_id, created_at > now() - interval '1 minute' FROM user_accounts WHERE id = '`+accountID+`'`, &owner, &fresh)
	require.Equal(t, bob.userID, owner)
	require.True(t, fresh, "created_at is the server's")
	require.Zero(t, count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1 OR id = $2`, alice.userID, planted))

	res = svc.call(t, "POST", "/api/credentials/store?userId="+alice.userID, fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca",
		"api_key":"AKBOB","secret_key":"SKBOB","user_id":%q,"id":%q,"key_id":"k9","api_key_key_id":"k9","created_at":"2001-01-01T00:00:00Z"}`,
		accountID, alice.userID, planted), spoof...)
	require.Equal(t, 201, res.status, res.raw)
	credID := res.body["id"].(string)
	require.NotEqual(t, planted, credID)
	var credOwner, keyID string
	queryRow(t, dbURL, `SELECT user_id, api_key_key_id FROM user_credentials WHERE id = '`+credID+`'`, &credOwner, &keyID)
	require.Equal(t, bob.userID, credOwner)
	require.Equal(t, "e2e-1", keyID, "sealed under the server's key")

	res = svc.call(t, "PUT", "/api/credentials/"+credID, fmt.Sprintf(`{"nickname":"mine","user_id":%q,"id":%q,"account_id":%q}`,
		alice.userID, planted, planted), spoof...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, credID, res.body["id"])
	require.Equal(t, accountID, res.body["account_id"])

	res = svc.call(t, "POST", "/api/accounts/get-or-create?userId="+alice.userID, fmt.Sprintf(`{"user_id":%q}`, alice.userID), spoof...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, accountID, res.body["account"].(map[string]any)["id"])

	res = svc.call(t, "GET", "/api/accounts?userId="+alice.userID, "", "Cookie", bob.cookie(), "X-User-Id", alice.userID)
	require.Equal(t, 200, res.status)
	require.EqualValues(t, 1, res.body["count"])
	require.Equal(t, bob.userID, res.body["accounts"].([]any)[0].(map[string]any)["user_id"])
	require.Zero(t, count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1`, alice.userID), "nothing was made for Alice")
}
