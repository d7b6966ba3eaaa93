package main

// Tests 8-15, 27 and 31 of docs/reliability.md (CSRF and CORS, object-level authorization, plaintext,
// concurrency, tampered rows, buffer reuse) against the real binary and PostgreSQL.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/alpaca/alpacatest"
	"github.com/brokerly/accounts/internal/servicetest"
)

// relFixture is a service with users who each have an account and one stored credential.
type relFixture struct {
	svc    *servicetest.Service
	dbURL  string
	broker *alpacatest.Server
}

type relUser struct {
	servicetest.Session
	accountID, credentialID string
}

func newRelFixture(t *testing.T, extraEnv ...string) *relFixture {
	t.Helper()
	broker := alpacatest.NewServer(t, map[string]string{canaryKey: canarySecret})
	dbURL := servicetest.NewDatabaseURL(t)
	env := append([]string{"ALPACA_PAPER_URL=" + broker.URL(), "ALPACA_LIVE_URL=" + broker.URL()}, extraEnv...)
	return &relFixture{svc: servicetest.Start(t, dbURL, env...), dbURL: dbURL, broker: broker}
}

// user creates a user with a session, an account and a credential holding apiKey/secret.
func (f *relFixture) user(t *testing.T, id, apiKey, secret string) relUser {
	t.Helper()
	u := relUser{Session: servicetest.SignIn(t, f.dbURL, id)[0]}
	res := request(t, f.svc, "POST", "/api/accounts/get-or-create", "", u.Browser()...)
	require.Equal(t, 200, res.status, res.raw)
	u.accountID = res.body["account"].(map[string]any)["id"].(string)
	u.credentialID = f.storeCredential(t, u, apiKey, secret)
	return u
}

func (f *relFixture) storeCredential(t *testing.T, u relUser, apiKey, secret string) string {
	t.Helper()
	res := request(t, f.svc, "POST", "/api/credentials/store",
		fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":%q,"secret_key":%q}`, u.accountID, apiKey, secret), u.Browser()...)
	require.Equal(t, 201, res.status, res.raw)
	return res.body["id"].(string)
}

// Test 8: cookie-authenticated writes from a foreign origin, from "null", or without an
// Origin but marked cross-site are 403; a JSON body sent as text/plain is 415; no row
// changes either way; from the allowed origin the same writes succeed.
func TestRel08_CrossOriginWritesAreRefused(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-08", "AKALICE08", "SKALICE08")
	bob := servicetest.SignIn(t, f.dbURL, "bob-08")[0] // no account yet: a successful forgery would create one
	writes := []struct {
		who          servicetest.Session
		method, path string
		body         string
	}{
		{bob, "POST", "/api/accounts", `{"account_name":"forged"}`},
		{bob, "POST", "/api/accounts/get-or-create", `{}`},
		{alice.Session, "POST", "/api/credentials/store", fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AKFORGED","secret_key":"x"}`, alice.accountID)},
		{alice.Session, "PUT", "/api/credentials/" + alice.credentialID, `{"nickname":"forged","is_active":false}`},
		{alice.Session, "DELETE", "/api/credentials/" + alice.credentialID, ""},
	}
	digests := func() []string {
		return []string{servicetest.TableDigest(t, f.dbURL, "user_accounts"), servicetest.TableDigest(t, f.dbURL, "user_credentials")}
	}
	before := digests()
	for _, w := range writes {
		for name, headers := range map[string][]string{
			"evil origin":                   {"Origin", evilOrigin},
			"null origin":                   {"Origin", "null"},
			"no origin, cross-site":         {"Sec-Fetch-Site", "cross-site"},
			"no origin at all":              {},
			"allowed origin's lookalike":    {"Origin", relOrigin + ".evil.example"},
			"evil origin, claims same-site": {"Origin", evilOrigin, "Sec-Fetch-Site", "same-origin"},
		} {
			res := request(t, f.svc, w.method, w.path, w.body, append([]string{"Cookie", w.who.Cookie()}, headers...)...)
			require.Equal(t, 403, res.status, "%s %s, %s: %s", w.method, w.path, name, res.raw)
			require.Equal(t, "forbidden_origin", res.body["code"])
		}
		if w.body != "" {
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
				res := request(t, f.svc, w.method, w.path, w.body, "Cookie", w.who.Cookie(), "Origin", relOrigin, "Content-Type", ct)
				require.Equal(t, 415, res.status, "%s %s as %s: %s", w.method, w.path, ct, res.raw)
			}
		}
	}
	require.Equal(t, before, digests(), "no row changed")

	for _, w := range writes {
		res := request(t, f.svc, w.method, w.path, w.body, append([]string{"Cookie", w.who.Cookie()}, "Origin", relOrigin)...)
		require.True(t, res.status >= 200 && res.status < 300, "%s %s from the allowed origin: %d %s", w.method, w.path, res.status, res.raw)
	}
	require.NotEqual(t, before, digests())
}

// Test 9: a preflight from a foreign origin gets no Access-Control-Allow-Origin; the service
// never answers "*", and never with credentials for an origin other than the request's.
func TestRel09_CORSAllowsOnlyTheListedOrigin(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-09", "AKALICE09", "SKALICE09")
	preflight := func(origin string) response {
		return request(t, f.svc, "OPTIONS", "/api/accounts", "", "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type")
	}
	for _, origin := range []string{evilOrigin, "null", relOrigin + ".evil.example", "http://app.test:8080", "https://app.test"} {
		res := preflight(origin)
		require.Empty(t, res.header.Get("Access-Control-Allow-Origin"), origin)
		require.Empty(t, res.header.Get("Access-Control-Allow-Credentials"), origin)
		require.Empty(t, res.header.Get("Access-Control-Allow-Methods"), origin)
	}
	res := preflight(relOrigin)
	require.Equal(t, relOrigin, res.header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))

	var seen int
	for _, origin := range []string{relOrigin, evilOrigin, "null", ""} {
		for _, r := range []response{
			preflight(origin),
			request(t, f.svc, "GET", "/api/accounts", "", "Cookie", alice.Cookie(), "Origin", origin),
			request(t, f.svc, "GET", "/api/accounts", "", "Origin", origin),
			request(t, f.svc, "POST", "/api/accounts", `{"account_name":"x"}`, "Cookie", alice.Cookie(), "Origin", origin),
			request(t, f.svc, "GET", "/api/credentials/"+alice.credentialID+"/nope", "", "Cookie", alice.Cookie(), "Origin", origin),
			request(t, f.svc, "GET", "/healthz", "", "Origin", origin),
		} {
			acao := r.header.Get("Access-Control-Allow-Origin")
			require.NotEqual(t, "*", acao)
			require.NotContains(t, r.header.Get("Access-Control-Allow-Headers"), "*")
			if acao != "" {
				require.Equal(t, relOrigin, origin, "only the listed origin is ever echoed")
				require.Equal(t, relOrigin, acao)
				require.Contains(t, strings.Join(r.header.Values("Vary"), ","), "Origin", "caches keep per-origin answers apart")
				seen++
			}
		}
	}
	require.Equal(t, 6, seen, "every response to the listed origin is shareable")
}

// Test 10: B's GET, PUT, DELETE, validate and account-data on A's credential are 404 with
// the same body as for a random UUID; A's row is unchanged; B's list is exactly B's rows.
func TestRel10_AnotherUsersCredentialLooksLikeARandomOne(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-10", canaryKey, canarySecret)
	bob := f.user(t, "bob-10", "AKBOB10", "SKBOB10")
	f.storeCredential(t, bob, "AKBOB10b", "SKBOB10b")
	aliceRow := func() string {
		var d string
		servicetest.QueryRow(t, f.dbURL, `SELECT md5(c::text) FROM user_credentials c WHERE id = '`+alice.credentialID+`'`, &d)
		return d
	}
	before, calls := aliceRow(), f.broker.Calls()

	random := "0190c1c4-1234-7abc-8def-0123456789ab"
	for _, call := range []struct{ method, suffix, body string }{
		{"PUT", "", `{"nickname":"mine","is_active":false,"api_key":"AKBOB","secret_key":"x"}`},
		{"DELETE", "", ""},
		{"POST", "/validate", ""},
		{"GET", "/account-data", ""},
	} {
		theirs := request(t, f.svc, call.method, "/api/credentials/"+alice.credentialID+call.suffix, call.body, bob.Browser()...)
		none := request(t, f.svc, call.method, "/api/credentials/"+random+call.suffix, call.body, bob.Browser()...)
		require.Equal(t, 404, theirs.status, "%v: %s", call, theirs.raw)
		require.Equal(t, none.status, theirs.status)
		require.Equal(t, none.sansInstance, theirs.sansInstance, "%v: the same body as for an id that does not exist", call)
		require.NotContains(t, theirs.raw, alice.credentialID)
	}
	require.Equal(t, before, aliceRow(), "Alice's row is unchanged")
	require.Equal(t, calls, f.broker.Calls(), "Alice's keys never went to the broker")

	res := request(t, f.svc, "GET", "/api/credentials?account_id="+bob.accountID, "", bob.Browser()...)
	require.Equal(t, 200, res.status)
	require.EqualValues(t, servicetest.Count(t, f.dbURL, `SELECT count(*) FROM user_credentials WHERE user_id = $1`, bob.UserID), res.body["count"])
	require.Len(t, res.body["credentials"], 2)
	res = request(t, f.svc, "GET", "/api/credentials?account_id="+alice.accountID, "", bob.Browser()...)
	require.Equal(t, 200, res.status, "the contract lists nothing rather than 404")
	require.EqualValues(t, 0, res.body["count"])
}

// Test 11: B storing a credential under A's account is 404, like an account that does not
// exist, and creates nothing.
func TestRel11_CredentialUnderAnotherUsersAccountIsRefused(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-11", "AKALICE11", "SKALICE11")
	bob := f.user(t, "bob-11", "AKBOB11", "SKBOB11")
	before := servicetest.TableDigest(t, f.dbURL, "user_credentials")
	store := func(accountID string) response {
		return request(t, f.svc, "POST", "/api/credentials/store",
			fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AKSTOLEN","secret_key":"x"}`, accountID), bob.Browser()...)
	}
	theirs := store(alice.accountID)
	require.Equal(t, 404, theirs.status, theirs.raw)
	for _, other := range []string{"0190c1c4-1234-7abc-8def-0123456789ab", "00000000-0000-0000-0000-000000000000", strings.ToUpper(alice.accountID)} {
		res := store(other)
		require.Equal(t, 404, res.status, "%s: %s", other, res.raw)
		require.Equal(t, theirs.sansInstance, res.sansInstance)
	}
	require.Equal(t, before, servicetest.TableDigest(t, f.dbURL, "user_credentials"), "no row was created")
	require.Zero(t, servicetest.Count(t, f.dbURL, `SELECT count(*) FROM user_credentials WHERE user_account_id = $1 AND user_id <> $2`, alice.accountID, alice.UserID))
}

// Test 12: canary keys are never in a response, in the logs or in any stored column.
func TestRel12_NoPlaintextInResponsesLogsOrDatabase(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-12", canaryKey, canarySecret)
	f.broker.SetKey("AKCANARYROTATED0001", "SKCANARYROTATEDsecret0001")
	var responses []string
	for _, call := range []struct{ method, path, body string }{
		{"GET", "/api/credentials?account_id=" + alice.accountID, ""},
		{"POST", "/api/credentials/" + alice.credentialID + "/validate", ""},
		{"GET", "/api/credentials/" + alice.credentialID + "/account-data", ""},
		{"PUT", "/api/credentials/" + alice.credentialID, `{"api_key":"AKCANARYROTATED0001","secret_key":"SKCANARYROTATEDsecret0001"}`},
		{"POST", "/api/credentials/" + alice.credentialID + "/validate", ""},
		{"POST", "/api/credentials/store", fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AKCANARY","secret_key":"SKCANARY","nickname":"n"}`, alice.accountID)},
		{"POST", "/api/credentials/store", fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AKCANARY%s","secret_key":""}`, alice.accountID, strings.Repeat("x", 10))},
	} {
		res := request(t, f.svc, call.method, call.path, call.body, alice.Browser()...)
		require.Less(t, res.status, 500, "%v: %s", call, res.raw)
		responses = append(responses, fmt.Sprint(res.header)+res.raw)
	}
	for _, r := range responses {
		require.NotContains(t, r, "CANARY")
	}
	requireNoPlaintext(t, f.svc, f.dbURL)
	require.Zero(t, servicetest.Count(t, f.dbURL, `SELECT count(*) FROM user_credentials WHERE api_key_ciphertext::text LIKE '%CANARY%' OR secret_key_ciphertext::text LIKE '%CANARY%'`))
}

// Test 13: a second POST is 409, one row.
func TestRel13_SecondCreateIsConflict(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	alice := servicetest.SignIn(t, dbURL, "alice-13")[0]
	res := request(t, svc, "POST", "/api/accounts", `{"account_name":"first"}`, alice.Browser()...)
	require.Equal(t, 201, res.status, res.raw)
	res = request(t, svc, "POST", "/api/accounts", `{"account_name":"second"}`, alice.Browser()...)
	require.Equal(t, 409, res.status, res.raw)
	require.Equal(t, "account_exists", res.body["code"])
	require.Equal(t, 1, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1`, alice.UserID))
}

// Test 14: 50 parallel POSTs of one user: exactly one 201, 49 × 409, no 5xx, one row.
func TestRel14_ParallelCreatesMakeOneAccount(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	alice := servicetest.SignIn(t, dbURL, "alice-14")[0]
	c := poolClient(t)
	results := parallel(50, func(i int) rawResponse {
		return send(c, "POST", svc.URL+"/api/accounts", fmt.Sprintf(`{"account_name":"acct %d"}`, i), alice.Browser()...)
	})
	statuses := map[int]int{}
	for _, r := range results {
		require.NoError(t, r.err)
		statuses[r.status]++
	}
	require.Equal(t, map[int]int{201: 1, 409: 49}, statuses)
	require.Equal(t, 1, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1`, alice.UserID))
}

// Test 15: 50 parallel get-or-create calls agree on one account, starting empty and again
// once it exists; exactly one of the first round created it.
func TestRel15_ParallelGetOrCreateAgreesOnOneAccount(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	alice := servicetest.SignIn(t, dbURL, "alice-15")[0]
	c := poolClient(t)
	var first string
	for round, wantCreated := range []int{1, 0} {
		results := parallel(50, func(int) rawResponse {
			return send(c, "POST", svc.URL+"/api/accounts/get-or-create", "", alice.Browser()...)
		})
		ids, created := map[string]bool{}, 0
		for _, r := range results {
			require.NoError(t, r.err)
			require.Equal(t, 200, r.status, "round %d: %s", round, r.body)
			var body struct {
				Account struct{ ID string } `json:"account"`
				Created bool                `json:"created"`
			}
			require.NoError(t, jsonUnmarshal(r.body, &body))
			ids[body.Account.ID] = true
			if body.Created {
				created++
			}
			if first == "" {
				first = body.Account.ID
			}
		}
		require.Equal(t, map[string]bool{first: true}, ids, "round %d: one id", round)
		require.Equal(t, wantCreated, created, "round %d", round)
		require.Equal(t, 1, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = $1`, alice.UserID))
	}
}

// Test 27 end to end: a sealed value moved between users, between a user's rows or between
// columns, or with one byte flipped, fails closed: a generic 500, a security event in the
// log, no panic, and no call to the broker with anyone's plaintext.
func TestRel27_TamperedRowsFailClosed(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-27", canaryKey, canarySecret)
	alice2 := f.storeCredential(t, alice, "AKALICE27b", "SKALICE27b")
	bob := f.user(t, "bob-27", "AKBOB27", "SKBOB27")
	copyFrom := `UPDATE user_credentials v SET api_key_key_id = s.api_key_key_id, api_key_ciphertext = s.api_key_ciphertext
		FROM user_credentials s WHERE v.id = $1 AND s.id = $2`
	for name, tc := range map[string]struct {
		sql          string
		victim, from string
		who          relUser
	}{
		"from another user's row":   {copyFrom, bob.credentialID, alice.credentialID, bob},
		"between one user's rows":   {copyFrom, alice2, alice.credentialID, alice},
		"between the columns":       {`UPDATE user_credentials SET secret_key_ciphertext = api_key_ciphertext WHERE id = $1 AND $2::uuid IS NOT NULL`, alice.credentialID, alice.credentialID, alice},
		"one byte of the nonce":     {`UPDATE user_credentials SET api_key_ciphertext = set_byte(api_key_ciphertext, 1, get_byte(api_key_ciphertext, 1) # 1) WHERE id = $1 AND $2::uuid IS NOT NULL`, alice.credentialID, alice.credentialID, alice},
		"one byte of the tag":       {`UPDATE user_credentials SET secret_key_ciphertext = set_byte(secret_key_ciphertext, length(secret_key_ciphertext) - 1, get_byte(secret_key_ciphertext, length(secret_key_ciphertext) - 1) # 128) WHERE id = $1 AND $2::uuid IS NOT NULL`, alice.credentialID, alice.credentialID, alice},
		"relabelled to another key": {`UPDATE user_credentials SET api_key_key_id = 'e2e-9' WHERE id = $1 AND $2::uuid IS NOT NULL`, alice.credentialID, alice.credentialID, alice},
	} {
		t.Run(name, func(t *testing.T) {
			restore := snapshotRow(t, f.dbURL, tc.victim)
			defer restore()
			servicetest.Exec(t, f.dbURL, tc.sql, tc.victim, tc.from)
			calls := f.broker.Calls()
			for _, suffix := range []string{"/validate", "/account-data"} {
				method := map[string]string{"/validate": "POST", "/account-data": "GET"}[suffix]
				res := request(t, f.svc, method, "/api/credentials/"+tc.victim+suffix, "", tc.who.Browser()...)
				require.Equal(t, 500, res.status, res.raw)
				require.JSONEq(t, `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"An unexpected error occurred.","code":"internal"}`, res.sansInstance)
			}
			require.Equal(t, calls, f.broker.Calls(), "nothing reached the broker")
			require.Eventually(t, func() bool {
				return strings.Contains(f.svc.Logs.String(), `"security_event":"undecryptable_secret"`) &&
					strings.Contains(f.svc.Logs.String(), tc.victim)
			}, 2*time.Second, 10*time.Millisecond)
		})
	}
	logs := f.svc.Logs.String()
	require.NotContains(t, logs, "panic")
	require.NotContains(t, logs, "CANARY")
	res := request(t, f.svc, "POST", "/api/credentials/"+bob.credentialID+"/validate", "", bob.Browser()...)
	require.Equal(t, 200, res.status, "restored rows open again: %s", res.raw)
}

// snapshotRow saves a credential row and returns a function that puts it back.
func snapshotRow(t *testing.T, dbURL, id string) func() {
	t.Helper()
	var api, secret []byte
	var apiKey, secretKey string
	servicetest.QueryRow(t, dbURL, `SELECT api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext FROM user_credentials WHERE id = '`+id+`'`,
		&apiKey, &api, &secretKey, &secret)
	return func() {
		servicetest.Exec(t, dbURL, `UPDATE user_credentials SET api_key_key_id = $2, api_key_ciphertext = $3, secret_key_key_id = $4, secret_key_ciphertext = $5 WHERE id = $1`,
			id, apiKey, api, secretKey, secret)
	}
}

// Test 31: 500 users create their accounts at once, each with its own label: the stored
// labels are exactly the set sent, each under the user who sent it, and each response
// carries its own (Fiber reuses request buffers; a handler keeping a reference would mix
// them up). The handlers' -race run is `go tool task test:race`.
func TestRel31_ConcurrentCreatesKeepTheirOwnLabels(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	const n = 500
	users := servicetest.Users(t, dbURL, "u31", n)
	label := func(i int) string {
		return fmt.Sprintf("label %03d %s", i, strings.Repeat(string(rune('a'+i%26)), 1+i%40))
	}
	c := poolClient(t)
	results := parallel(n, func(i int) rawResponse {
		return send(c, "POST", svc.URL+"/api/accounts", fmt.Sprintf(`{"account_name":%q}`, label(i)), users[i].Browser()...)
	})
	for i, r := range results {
		require.NoError(t, r.err)
		require.Equal(t, 201, r.status, r.body)
		var got struct {
			UserID      string `json:"user_id"`
			AccountName string `json:"account_name"`
		}
		require.NoError(t, jsonUnmarshal(r.body, &got))
		require.Equal(t, users[i].UserID, got.UserID)
		require.Equal(t, label(i), got.AccountName)
	}

	var joined string
	servicetest.QueryRow(t, dbURL, `SELECT coalesce(string_agg(user_id || '=' || account_name, E'\n'), '') FROM user_accounts`, &joined)
	stored := strings.Split(joined, "\n")
	slices.Sort(stored)
	var sent []string
	for i, u := range users {
		sent = append(sent, u.UserID+"="+label(i))
	}
	slices.Sort(sent)
	require.Equal(t, sent, stored)
}
