package main

// Tests 1-5 and 7 of docs/reliability.md (authentication) against the real binary and PostgreSQL.

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/stretchr/testify/require"
)

const uniform401 = `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"A valid session is required.","code":"unauthenticated"}`

// Test 1: no or garbage credentials are a 401 with one body, and cost no database
// connection: the number of sessions on the database is the same before and after.
func TestRel01_GarbageCookieUsesNoDatabaseConnection(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	alice := servicetest.Users(t, dbURL, "alice-01", 1)[0]
	forged := alice.Token + "." + servicetest.SignatureWith("another-secret-of-sufficient-length-0123456789", alice.Token)
	garbage := [][]string{
		{},
		{"Cookie", devCookie + "=garbage"},
		{"Cookie", devCookie + "="},
		{"Cookie", devCookie + "=" + alice.Token},
		{"Cookie", devCookie + "=" + url.QueryEscape(forged)},
		{"Cookie", devCookie + "=" + strings.Repeat("%41", 2000)},
		{"Cookie", "session=" + alice.Value()},
		{"Authorization", "Bearer garbage"},
		{"Authorization", "Bearer " + forged},
		{"Authorization", "Basic dXNlcjpwYXNz"},
	}

	settle := func() int {
		t.Helper()
		prev := -1
		for range 50 {
			n := servicetest.Backends(t, dbURL)
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
		res := request(t, svc, method, path, "", headers...)
		require.Equal(t, 401, res.status, "%v: %s", headers, res.raw)
		require.JSONEq(t, uniform401, res.sansInstance)
		require.Equal(t, "Bearer", res.header.Get("WWW-Authenticate"))
	}
	require.Equal(t, before, servicetest.Backends(t, dbURL), "50 refused requests opened no database session")
	require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", alice.Cookie()).status, "the control: a real session works")
}

// Test 2: every kind of tampering gets the same 401, byte for byte (the signature check
// itself is hmac.Equal: TestRel02_CIGrepSignatureComparisons in adapters/betterauth).
func TestRel02_TamperedCookiesAreIdentical401s(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	alice := servicetest.Users(t, dbURL, "alice-02", 1)[0]
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
		return string(b)
	}
	tampered := map[string]string{
		"flipped signature character": alice.Token + "." + flip(alice.Sig(), 10),
		"no .sig":                     alice.Token,
		"43-character signature":      alice.Token + "." + alice.Sig()[:43],
		"another secret's signature":  alice.Token + "." + servicetest.SignatureWith("another-secret-of-sufficient-length-0123456789", alice.Token),
		"altered token":               flip(alice.Token, 0) + "." + alice.Sig(),
		"token of another session":    servicetest.RandomHex(16) + "." + alice.Sig(),
	}
	bodies := map[string]bool{}
	for name, v := range tampered {
		for _, headers := range [][]string{{"Cookie", devCookie + "=" + url.QueryEscape(v)}, {"Authorization", "Bearer " + v}} {
			res := request(t, svc, "GET", "/api/accounts", "", headers...)
			require.Equal(t, 401, res.status, "%s: %s", name, res.raw)
			bodies[res.sansInstance] = true
		}
	}
	bodies[request(t, svc, "GET", "/api/accounts", "").sansInstance] = true
	require.Len(t, bodies, 1, "one body for every refusal: %v", bodies)
	require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", alice.Cookie()).status)
}

// Test 3: the cookie exactly as a browser sends it (%2B %2F %3D) works; encoded twice it is
// refused, because the service decodes once.
func TestRel03_CookieEncoding(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	var s servicetest.Session
	for i := range 200 { // a signature with both + and / (about one in four has neither)
		s = servicetest.Users(t, dbURL, fmt.Sprintf("u03-%d", i), 1)[0]
		if strings.Contains(s.Sig(), "+") && strings.Contains(s.Sig(), "/") {
			break
		}
	}
	require.True(t, strings.Contains(s.Sig(), "+") && strings.Contains(s.Sig(), "/"), "no signature with + and / in 200 tries")
	browser := s.Value()
	for _, esc := range []string{"%2B", "%2F", "%3D"} {
		require.Contains(t, browser, esc)
	}
	require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", devCookie+"="+browser).status)

	twice := url.QueryEscape(browser)
	require.Contains(t, twice, "%252B")
	res := request(t, svc, "GET", "/api/accounts", "", "Cookie", devCookie+"="+twice)
	require.Equal(t, 401, res.status)
	require.JSONEq(t, uniform401, res.sansInstance)
	require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Authorization", s.Bearer()).status, "bearer: the raw value")
}

// Test 4: a signed-out, expired, deleted or banned session is refused on the very next
// request: the session is resolved in every request's own transaction, never cached.
func TestRel04_RevocationAndExpiry(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	// Better Auth's admin plugin adds the ban columns; the service reads them where they exist.
	servicetest.Exec(t, dbURL, `ALTER TABLE "user" ADD COLUMN IF NOT EXISTS banned boolean, ADD COLUMN IF NOT EXISTS "banExpires" timestamptz`)
	users := servicetest.Users(t, dbURL, "u04", 4)
	for what, revoke := range map[*servicetest.Session]string{
		&users[0]: `DELETE FROM "session" WHERE token = $1`,
		&users[1]: `UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE token = $1`,
		&users[2]: `DELETE FROM "user" WHERE id = (SELECT "userId" FROM "session" WHERE token = $1)`,
		&users[3]: `UPDATE "user" SET banned = true WHERE id = (SELECT "userId" FROM "session" WHERE token = $1)`,
	} {
		for range 3 {
			require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", what.Cookie()).status)
		}
		servicetest.Exec(t, dbURL, revoke, what.Token)
		for range 3 {
			require.Equal(t, 401, request(t, svc, "GET", "/api/accounts", "", "Cookie", what.Cookie()).status,
				"refused on the very next request after %q, and stays refused", revoke)
		}
	}
}

// Test 5: in production (BETTER_AUTH_SECURE_COOKIES=true) only the __Secure- cookie counts.
func TestRel05_ProductionReadsOnlyTheSecureCookie(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "BETTER_AUTH_SECURE_COOKIES=true")
	alice := servicetest.Users(t, dbURL, "alice-05", 1)[0]
	secure := "__Secure-" + devCookie

	res := request(t, svc, "GET", "/api/accounts", "", "Cookie", devCookie+"="+alice.Value())
	require.Equal(t, 401, res.status)
	require.JSONEq(t, uniform401, res.sansInstance)
	require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", secure+"="+alice.Value()).status)
	require.Equal(t, 401, request(t, svc, "GET", "/api/accounts", "", "Cookie", devCookie+"="+alice.Value()+"; "+secure+"=garbage").status,
		"a valid unprefixed cookie does not rescue a bad secure one")
}

// Test 7: ids and owners come from the session and the server only: user_id, id, key_id and
// created_at in bodies, ?userId= and X-User-Id are ignored.
func TestRel07_IdentityFromTheSessionOnly(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	users := servicetest.SignIn(t, dbURL, "alice-07", "bob-07")
	alice, bob := users[0], users[1]
	const planted = "00000000-0000-7000-8000-000000000007"
	spoof := append(bob.Browser(), "X-User-Id", alice.UserID, "X-Forwarded-User", alice.UserID)

	res := request(t, svc, "POST", "/api/accounts?userId="+alice.UserID+"&user_id="+alice.UserID,
		fmt.Sprintf(`{"account_name":"Bob's","user_id":%q,"id":%q,"key_id":"k9","created_at":"2001-01-01T00:00:00Z","is_active":false}`, alice.UserID, planted),
		spoof...)
	require.Equal(t, 201, res.status, res.raw)
	accountID := res.body["id"].(string)
	require.NotEqual(t, planted, accountID)
	require.Equal(t, bob.UserID, res.body["user_id"])
	require.Equal(t, true, res.body["is_active"])

	var owner string
	var fresh bool
	servicetest.QueryRow(t, dbURL, `SELECT user_id, created_at > now() - interval '1 minute' FROM user_accounts WHERE id = '`+accountID+`'`, &owner, &fresh)
	require.Equal(t, bob.UserID, owner)
	require.True(t, fresh, "created_at is the server's")
	require.Zero(t, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1 OR id = $2`, alice.UserID, planted))

	res = request(t, svc, "POST", "/api/credentials/store?userId="+alice.UserID, fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca",
		"api_key":"AKBOB","secret_key":"SKBOB","user_id":%q,"id":%q,"key_id":"k9","api_key_key_id":"k9","created_at":"2001-01-01T00:00:00Z"}`,
		accountID, alice.UserID, planted), spoof...)
	require.Equal(t, 201, res.status, res.raw)
	credID := res.body["id"].(string)
	require.NotEqual(t, planted, credID)
	var credOwner, keyID string
	servicetest.QueryRow(t, dbURL, `SELECT user_id, api_key_key_id FROM user_credentials WHERE id = '`+credID+`'`, &credOwner, &keyID)
	require.Equal(t, bob.UserID, credOwner)
	require.Equal(t, "e2e-1", keyID, "sealed under the server's key")

	res = request(t, svc, "PUT", "/api/credentials/"+credID, fmt.Sprintf(`{"nickname":"mine","user_id":%q,"id":%q,"account_id":%q}`,
		alice.UserID, planted, planted), spoof...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, credID, res.body["id"])
	require.Equal(t, accountID, res.body["account_id"])

	res = request(t, svc, "POST", "/api/accounts/get-or-create?userId="+alice.UserID, fmt.Sprintf(`{"user_id":%q}`, alice.UserID), spoof...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, accountID, res.body["account"].(map[string]any)["id"])

	res = request(t, svc, "GET", "/api/accounts?userId="+alice.UserID, "", "Cookie", bob.Cookie(), "X-User-Id", alice.UserID)
	require.Equal(t, 200, res.status)
	require.EqualValues(t, 1, res.body["count"])
	require.Equal(t, bob.UserID, res.body["accounts"].([]any)[0].(map[string]any)["user_id"])
	require.Zero(t, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1`, alice.UserID), "nothing was made for Alice")
}
