package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/brokerly/accounts/adapters/alpaca/alpacatest"
	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/stretchr/testify/require"
)

// The interoperability tests drive the real better-auth npm package (pinned in
// testdata/betterauth/package.json; `go tool task deps` installs it) against the same
// database as the service, so they prove that what Better Auth issues, this service accepts.

const harnessDir = "testdata/betterauth"

type signedUp struct {
	UserID    string `json:"userId"`
	SetCookie string `json:"setCookie"`
	Cookie    string `json:"cookie"`
	Bearer    string `json:"bearer"`
}

// Better Auth's base URL decides its cookie mode: http is plain, https is secure
// (__Secure- names), as docs/better-auth.md describes.
const (
	plainBaseURL  = "http://localhost:3000"
	secureBaseURL = "https://localhost:3000"
)

func betterAuth(t *testing.T, dbURL string, args ...string) []byte {
	t.Helper()
	return betterAuthAt(t, dbURL, plainBaseURL, args...)
}

// betterAuthAt runs the harness with Better Auth at baseURL.
func betterAuthAt(t *testing.T, dbURL, baseURL string, args ...string) []byte {
	t.Helper()
	return betterAuthEnv(t, dbURL, []string{"BETTER_AUTH_URL=" + baseURL}, args...)
}

// betterAuthEnv runs one harness command with extra environment (BETTER_AUTH_URL,
// BETTER_AUTH_ADMIN, BETTER_AUTH_SECRETS) and returns the JSON it prints.
func betterAuthEnv(t *testing.T, dbURL string, env []string, args ...string) []byte {
	t.Helper()
	return harnessFor(t, dbURL, env).run(t, args)
}

func signUp(t *testing.T, dbURL, email string) signedUp {
	t.Helper()
	return signUpAt(t, dbURL, plainBaseURL, email)
}

func signUpAt(t *testing.T, dbURL, baseURL, email string) signedUp {
	t.Helper()
	var s signedUp
	require.NoError(t, json.Unmarshal(betterAuthAt(t, dbURL, baseURL, "signup", email, email), &s))
	require.NotEmpty(t, s.UserID)
	require.NotEmpty(t, s.Bearer)
	return s
}

// cookieFromSetCookie is what a browser sends back: the name=value pair, untouched.
func cookieFromSetCookie(setCookie string) string {
	pair, _, _ := strings.Cut(setCookie, ";")
	return pair
}

func TestBetterAuthInterop(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"better-auth migrates first", "service migrates first"} {
		t.Run(order, func(t *testing.T) {
			dbURL := servicetest.NewDatabaseURL(t)
			broker := alpacatest.NewServer(t, map[string]string{canaryKey: canarySecret})
			brokerURL := []string{"ALPACA_PAPER_URL=" + broker.URL(), "ALPACA_LIVE_URL=" + broker.URL()}
			var svc *servicetest.Service
			if order == "better-auth migrates first" {
				servicetest.CreateDatabase(t, dbURL)
				betterAuth(t, dbURL, "migrate")
				svc = servicetest.Start(t, dbURL, brokerURL...)
			} else {
				svc = servicetest.Start(t, dbURL, brokerURL...)
				betterAuth(t, dbURL, "migrate") // must find our copy of its tables acceptable
			}
			exerciseRealSessions(t, svc, broker, dbURL)
			requireNoPlaintext(t, svc, dbURL)
		})
	}
}

func exerciseRealSessions(t *testing.T, svc *servicetest.Service, broker *alpacatest.Server, dbURL string) {
	alice := signUp(t, dbURL, "alice@example.test")
	bob := signUp(t, dbURL, "bob@example.test")
	aliceCookie := cookieFromSetCookie(alice.SetCookie)
	require.Contains(t, aliceCookie, "%3D", "the browser sends the URL-encoded value Better Auth set")
	origin := "http://app.test"

	res := request(t, svc, "POST", "/api/accounts", `{"account_name":"Alice's account"}`, "Cookie", aliceCookie, "Origin", origin)
	require.Equal(t, 201, res.status, res.raw)
	require.Equal(t, alice.UserID, res.body["user_id"])
	aliceAccount := res.body["id"]

	res = request(t, svc, "GET", "/api/accounts", "", "Authorization", "Bearer "+alice.Bearer)
	require.Equal(t, 200, res.status, res.raw)
	require.EqualValues(t, 1, res.body["count"])
	require.Equal(t, aliceAccount, res.body["accounts"].([]any)[0].(map[string]any)["id"])

	res = request(t, svc, "POST", "/api/accounts/get-or-create", "", "Authorization", "Bearer "+bob.Bearer)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, true, res.body["created"])
	require.Equal(t, bob.UserID, res.body["account"].(map[string]any)["user_id"])

	res = request(t, svc, "GET", "/api/accounts", "", "Cookie", cookieFromSetCookie(bob.SetCookie))
	require.Equal(t, 200, res.status)
	require.EqualValues(t, 1, res.body["count"], "bob sees his account only")
	require.NotEqual(t, aliceAccount, res.body["accounts"].([]any)[0].(map[string]any)["id"])

	// Credentials, with the exact cookie Better Auth set, and with its bearer token.
	credentialID := exerciseCredentials(t, svc, broker, "Cookie", aliceCookie, "Origin", origin)
	exerciseCredentials(t, svc, broker, "Authorization", "Bearer "+bob.Bearer)
	res = request(t, svc, "GET", "/api/credentials/"+credentialID+"/account-data", "", "Authorization", "Bearer "+bob.Bearer)
	require.Equal(t, 404, res.status, "bob cannot read alice's credential")

	var out struct{ Status int }
	require.NoError(t, json.Unmarshal(betterAuth(t, dbURL, "signout", aliceCookie), &out))
	require.Equal(t, 200, out.Status)

	signedOut := request(t, svc, "GET", "/api/accounts", "", "Cookie", aliceCookie)
	require.Equal(t, 401, signedOut.status)
	require.Equal(t, 401, request(t, svc, "GET", "/api/accounts", "", "Authorization", "Bearer "+alice.Bearer).status)
	require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Authorization", "Bearer "+bob.Bearer).status,
		"signing alice out leaves bob signed in")
}

// Test 5 against the real package: Better Auth's getSession reads exactly one session
// cookie name, the one it computes for its mode, and so does the service. Whatever the
// Cookie header holds (both names in either order, one name twice, only the other name),
// the service acts as the user Better Auth sees, or as no one when Better Auth sees no one:
// a cookie planted under the other name (by a sibling subdomain, say) never makes a
// victim's writes land in the attacker's account.
func TestBetterAuthInterop_TheServiceReadsTheCookieBetterAuthReads(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name, baseURL, cookie, other string
		env                          []string
	}{
		{"plain mode", plainBaseURL, "better-auth.session_token", "__Secure-better-auth.session_token", nil},
		{"secure mode", secureBaseURL, "__Secure-better-auth.session_token", "better-auth.session_token",
			[]string{"BETTER_AUTH_SECURE_COOKIES=true"}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dbURL := servicetest.NewDatabaseURL(t)
			svc := servicetest.Start(t, dbURL, m.env...)
			victim := signUpAt(t, dbURL, m.baseURL, "victim@example.test")
			attacker := signUpAt(t, dbURL, m.baseURL, "attacker@example.test")
			name, victimValue, _ := strings.Cut(cookieFromSetCookie(victim.SetCookie), "=")
			require.Equal(t, m.cookie, name, "Better Auth names its session cookie as the service expects")
			_, attackerValue, _ := strings.Cut(cookieFromSetCookie(attacker.SetCookie), "=")

			headers := []string{
				m.cookie + "=" + victimValue + "; " + m.other + "=" + attackerValue,
				m.other + "=" + attackerValue + "; " + m.cookie + "=" + victimValue,
				m.cookie + "=" + victimValue + "; " + m.cookie + "=" + attackerValue, // the first wins
				m.other + "=" + attackerValue,
			}
			var seen struct {
				UserIDs []*string `json:"userIds"`
			}
			require.NoError(t, json.Unmarshal(betterAuthAt(t, dbURL, m.baseURL, append([]string{"get-session"}, headers...)...), &seen))
			require.Equal(t, []*string{&victim.UserID, &victim.UserID, &victim.UserID, nil}, seen.UserIDs,
				"what Better Auth itself sees")

			for i, header := range headers {
				res := request(t, svc, "POST", "/api/accounts/get-or-create", "", "Cookie", header, "Origin", servicetest.Origin)
				if seen.UserIDs[i] == nil {
					require.Equal(t, 401, res.status, "%s: %s", header, res.raw)
					continue
				}
				require.Equal(t, 200, res.status, "%s: %s", header, res.raw)
				require.Equal(t, *seen.UserIDs[i], res.body["account"].(map[string]any)["user_id"], header)
			}
			res := request(t, svc, "GET", "/api/accounts", "", "Authorization", "Bearer "+attacker.Bearer)
			require.Equal(t, 200, res.status, res.raw)
			require.EqualValues(t, 0, res.body["count"], "nothing landed in the attacker's account")
		})
	}
}

// An admin impersonating a user through Better Auth's real admin plugin
// (auth.api.impersonateUser) reads what the user reads, and is refused every credential
// write and broker call with 403 impersonation_forbidden, each refusal in the user's trail
// with the admin's id (docs/api.md, "Impersonation").
func TestBetterAuthInterop_AnImpersonatingAdminCannotTouchSecrets(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	broker := alpacatest.NewServer(t, map[string]string{canaryKey: canarySecret})
	servicetest.CreateDatabase(t, dbURL)
	withAdmin := []string{"BETTER_AUTH_URL=" + plainBaseURL, "BETTER_AUTH_ADMIN=1"}
	betterAuthEnv(t, dbURL, withAdmin, "migrate")
	svc := servicetest.Start(t, dbURL, "ALPACA_PAPER_URL="+broker.URL(), "ALPACA_LIVE_URL="+broker.URL())

	alice := signUp(t, dbURL, "alice@example.test")
	asAlice := []string{"Authorization", "Bearer " + alice.Bearer}
	res := request(t, svc, "POST", "/api/accounts/get-or-create", "", asAlice...)
	require.Equal(t, 200, res.status, res.raw)
	account := res.body["account"].(map[string]any)["id"].(string)
	res = request(t, svc, "POST", "/api/credentials/store",
		`{"account_id":"`+account+`","credential_type":"alpaca","api_key":"`+canaryKey+`","secret_key":"`+canarySecret+`"}`, asAlice...)
	require.Equal(t, 201, res.status, res.raw)
	credential := res.body["id"].(string)

	var imp struct {
		AdminID, UserID, ImpersonatedBy, SetCookie, Cookie string
	}
	require.NoError(t, json.Unmarshal(betterAuthEnv(t, dbURL, withAdmin, "impersonate", "admin@example.test", alice.UserID), &imp))
	require.Equal(t, alice.UserID, imp.UserID)
	require.Equal(t, imp.AdminID, imp.ImpersonatedBy, "Better Auth marked the session as an impersonation")
	asAdmin := []string{"Cookie", cookieFromSetCookie(imp.SetCookie), "Origin", "http://app.test"}

	for _, path := range []string{"/api/accounts", "/api/credentials?account_id=" + account, "/api/credentials/" + credential + "/events"} {
		res := request(t, svc, "GET", path, "", asAdmin...)
		require.Equal(t, 200, res.status, "the admin reads %s: %s", path, res.raw)
	}
	res = request(t, svc, "GET", "/api/accounts", "", asAdmin...)
	require.Equal(t, account, res.body["accounts"].([]any)[0].(map[string]any)["id"], "as alice")

	calls := broker.Calls()
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/credentials/store", `{"account_id":"` + account + `","credential_type":"alpaca","api_key":"AKADMIN","secret_key":"admin-secret"}`},
		{"PUT", "/api/credentials/" + credential, `{"secret_key":"replaced-by-admin"}`},
		{"DELETE", "/api/credentials/" + credential, ""},
		{"POST", "/api/credentials/" + credential + "/validate", ""},
		{"GET", "/api/credentials/" + credential + "/account-data", ""},
	} {
		res := request(t, svc, r.method, r.path, r.body, asAdmin...)
		require.Equal(t, 403, res.status, "%s %s: %s", r.method, r.path, res.raw)
		require.Equal(t, "impersonation_forbidden", res.body["code"])
	}
	require.Equal(t, calls, broker.Calls(), "Alpaca is never asked")

	res = request(t, svc, "GET", "/api/credentials/"+credential+"/events", "", asAlice...)
	require.Equal(t, 200, res.status, res.raw)
	var trail []string
	for _, raw := range res.body["events"].([]any) {
		e := raw.(map[string]any)
		trail = append(trail, e["action"].(string)+" "+e["outcome"].(string))
		if e["outcome"] == "refused" {
			require.Equal(t, imp.AdminID, e["impersonated_by"])
		} else {
			require.Nil(t, e["impersonated_by"])
		}
	}
	require.Equal(t, []string{"account_data_read refused", "validated refused", "deleted refused", "updated refused", "stored ok"}, trail)
	res = request(t, svc, "POST", "/api/credentials/"+credential+"/validate", "", asAlice...)
	require.Equal(t, 200, res.status, "alice herself still may: %s", res.raw)
	require.Equal(t, true, res.body["is_valid"])
}
