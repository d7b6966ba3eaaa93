package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// BETTER_AUTH_SECRETS against the real package, set alike on both sides beside
// BETTER_AUTH_SECRET (which the list overrides). Better Auth 1.7.25 signs sessions with the
// list's first entry and verifies them with that entry alone, and so does the service:
// after a rotation (a new first entry, the old one kept second) Better Auth's own
// getSession and bearer plugin refuse the sessions signed before, and its sign-out cannot
// verify them to delete them; the service refuses them too (401), so a user who signed out
// is out. Sessions signed with the new secret work on both sides, before and after the old
// secret is dropped from the list.
func TestBetterAuthInterop_SecretListSignsWithItsFirstEntry(t *testing.T) {
	t.Parallel()
	const (
		oldSecret = "old-Xk2p9Qw7Lm4Rt8Zv1Bn6Hy3Jd5Fs0GcEaUiOy"
		newSecret = "new-Pq8Wm2Zx7Lc4Vb1Nk9Hr5Td3Jy6Fg0SaQeWrTy"
	)
	var (
		before  = "1:" + oldSecret
		rotated = "2:" + newSecret + ", 1:" + oldSecret
		dropped = "2:" + newSecret
	)
	dbURL := servicetest.NewDatabaseURL(t)
	servicetest.CreateDatabase(t, dbURL)
	harness := func(secrets string, args ...string) []byte {
		t.Helper()
		return betterAuthEnv(t, dbURL, []string{"BETTER_AUTH_URL=" + plainBaseURL, "BETTER_AUTH_SECRETS=" + secrets}, args...)
	}
	signUpUnder := func(secrets, email, wantSecret string) signedUp {
		t.Helper()
		var s signedUp
		require.NoError(t, json.Unmarshal(harness(secrets, "signup", email, email), &s))
		token, sig, ok := strings.Cut(s.Bearer, ".")
		require.True(t, ok, s.Bearer)
		require.Equal(t, servicetest.SignatureWith(wantSecret, token), sig, "Better Auth signed %s with the list's first entry", email)
		return s
	}
	// seen is who Better Auth's getSession sees for each session, by its cookie and its
	// bearer token; checked is the same question asked of the service.
	seen := func(secrets string, sessions ...signedUp) []*string {
		t.Helper()
		var args []string
		for _, s := range sessions {
			args = append(args, cookieFromSetCookie(s.SetCookie), "Bearer "+s.Bearer)
		}
		var out struct {
			UserIDs []*string `json:"userIds"`
		}
		require.NoError(t, json.Unmarshal(harness(secrets, append([]string{"get-session"}, args...)...), &out))
		return out.UserIDs
	}
	checked := func(svc *servicetest.Service, sessions ...signedUp) []*string {
		t.Helper()
		var out []*string
		for _, s := range sessions {
			for _, auth := range [][]string{{"Cookie", cookieFromSetCookie(s.SetCookie)}, {"Authorization", "Bearer " + s.Bearer}} {
				res := request(t, svc, "POST", "/api/accounts/get-or-create", "", append(auth, "Origin", servicetest.Origin)...)
				switch res.status {
				case 200:
					id := res.body["account"].(map[string]any)["user_id"].(string)
					out = append(out, &id)
				case 401:
					out = append(out, nil)
				default:
					t.Fatalf("%v: %d %s", auth, res.status, res.raw)
				}
			}
		}
		return out
	}
	serveWith := func(secrets string) *servicetest.Service {
		t.Helper()
		svc := servicetest.Start(t, dbURL, "BETTER_AUTH_SECRETS="+secrets)
		require.Contains(t, svc.Logs.String(), `"msg":"verifying session signatures","secret_from":"BETTER_AUTH_SECRETS version `)
		return svc
	}

	harness(before, "migrate")
	alice := signUpUnder(before, "alice@example.test", oldSecret)
	svc := serveWith(before)
	both := []*string{&alice.UserID, &alice.UserID}
	require.Equal(t, both, seen(before, alice), "Better Auth accepts its cookie and bearer token")
	require.Equal(t, both, checked(svc, alice), "and so does the service")
	require.Equal(t, 0, svc.Stop(t))

	svc = serveWith(rotated)
	bob := signUpUnder(rotated, "bob@example.test", newSecret)
	want := []*string{nil, nil, &bob.UserID, &bob.UserID}
	require.Equal(t, want, seen(rotated, alice, bob), "Better Auth: the old session is refused, the new one accepted")
	require.Equal(t, want, checked(svc, alice, bob), "the service agrees")

	var out struct{ Status int }
	require.NoError(t, json.Unmarshal(harness(rotated, "signout", cookieFromSetCookie(alice.SetCookie)), &out))
	require.Equal(t, 200, out.Status)
	aliceToken, _, _ := strings.Cut(alice.Bearer, ".")
	require.Equal(t, 1, servicetest.Count(t, dbURL, `SELECT count(*) FROM "session" WHERE token = $1`, aliceToken),
		"Better Auth's sign-out could not verify the old cookie and left its session: only refusing it keeps her out")
	require.Equal(t, []*string{nil, nil}, checked(svc, alice))
	require.Equal(t, 0, svc.Stop(t))

	svc = serveWith(dropped)
	require.Equal(t, want, seen(dropped, alice, bob), "with the old secret gone")
	require.Equal(t, want, checked(svc, alice, bob))
}
