package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/alpaca/alpacatest"
	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/stretchr/testify/require"
)

const (
	canaryKey    = "AKCANARY0123456789"
	canarySecret = "SKCANARYsecret0123456789abcdef"
)

// exerciseCredentials walks one user's credential through its whole life against the
// running binary, with a fake Alpaca behind it. cookie authenticates; origin is allowed.
func exerciseCredentials(t *testing.T, svc *servicetest.Service, broker *alpacatest.Server, auth ...string) (credentialID string) {
	t.Helper()
	res := request(t, svc, "POST", "/api/accounts/get-or-create", "", auth...)
	require.Equal(t, 200, res.status, res.raw)
	accountID := res.body["account"].(map[string]any)["id"].(string)

	res = request(t, svc, "POST", "/api/credentials/store",
		fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":%q,"secret_key":%q}`, accountID, canaryKey, canarySecret), auth...)
	require.Equal(t, 201, res.status, res.raw)
	require.Equal(t, "paper", res.body["environment"])
	require.Equal(t, "alpaca", res.body["nickname"])
	credentialID = res.body["id"].(string)

	res = request(t, svc, "POST", "/api/credentials/store",
		fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","environment":"live","api_key":"AKREJECTED","secret_key":"wrong","nickname":"old keys"}`, accountID), auth...)
	require.Equal(t, 201, res.status, res.raw)
	rejectedID := res.body["id"].(string)

	res = request(t, svc, "GET", "/api/credentials?account_id="+accountID, "", auth...)
	require.Equal(t, 200, res.status, res.raw)
	require.EqualValues(t, 2, res.body["count"])
	require.Equal(t, rejectedID, res.body["credentials"].([]any)[0].(map[string]any)["id"], "newest first")

	res = request(t, svc, "POST", "/api/credentials/"+credentialID+"/validate", "", auth...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, true, res.body["is_valid"])
	require.Equal(t, "paper", res.body["account_type"])

	res = request(t, svc, "POST", "/api/credentials/"+rejectedID+"/validate", "", auth...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, false, res.body["is_valid"])
	require.Nil(t, res.body["account_type"])

	res = request(t, svc, "GET", "/api/credentials/"+credentialID+"/account-data", "", auth...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, broker.Account(canaryKey).Equity, res.body["equity"])

	res = request(t, svc, "PUT", "/api/credentials/"+rejectedID, `{"nickname":"retired","is_active":false}`, auth...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, "retired", res.body["nickname"])
	require.Equal(t, false, res.body["is_active"])
	res = request(t, svc, "POST", "/api/credentials/"+rejectedID+"/validate", "", auth...)
	require.Equal(t, 400, res.status, res.raw)
	require.Equal(t, "credential_inactive", res.body["code"])

	res = request(t, svc, "DELETE", "/api/credentials/"+rejectedID, "", auth...)
	require.Equal(t, 204, res.status, res.raw)
	res = request(t, svc, "DELETE", "/api/credentials/"+rejectedID, "", auth...)
	require.Equal(t, 404, res.status, res.raw)
	return credentialID
}

// requireNoPlaintext checks the logs and every column of the table for the canary.
func requireNoPlaintext(t *testing.T, svc *servicetest.Service, dbURL string) {
	t.Helper()
	logs := svc.Logs.String()
	for _, s := range []string{canaryKey, canarySecret, "CANARY"} {
		require.NotContains(t, logs, s)
	}
	var hits int
	servicetest.QueryRow(t, dbURL, `SELECT count(*) FROM user_credentials t WHERE row_to_json(t)::text LIKE '%CANARY%'
		OR encode(api_key_ciphertext, 'escape') LIKE '%CANARY%' OR encode(secret_key_ciphertext, 'escape') LIKE '%CANARY%'`, &hits)
	require.Zero(t, hits, "no plaintext in any column")
	var stored int
	servicetest.QueryRow(t, dbURL, `SELECT count(*) FROM user_credentials`, &stored)
	require.NotZero(t, stored, "the check above looked at real rows")
}

func TestEndToEndCredentials(t *testing.T) {
	t.Parallel()
	broker := alpacatest.NewServer(t, map[string]string{canaryKey: canarySecret})
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "ALPACA_PAPER_URL="+broker.URL(), "ALPACA_LIVE_URL="+broker.URL())
	alice := cookieFor(t, dbURL, "alice-cred")
	bob := cookieFor(t, dbURL, "bob-cred")

	id := exerciseCredentials(t, svc, broker, "Cookie", alice, "Origin", "http://app.test")

	t.Run("another user gets 404 and changes nothing", func(t *testing.T) {
		for _, call := range [][2]string{{"PUT", ""}, {"DELETE", ""}, {"POST", "/validate"}, {"GET", "/account-data"}} {
			res := request(t, svc, call[0], "/api/credentials/"+id+call[1], `{"nickname":"mine"}`, "Cookie", bob, "Origin", "http://app.test")
			require.Equal(t, 404, res.status, "%v: %s", call, res.raw)
		}
		res := request(t, svc, "POST", "/api/credentials/"+id+"/validate", "", "Cookie", alice, "Origin", "http://app.test")
		require.Equal(t, true, res.body["is_valid"])
	})

	t.Run("Alpaca down is 502", func(t *testing.T) {
		broker.FailWith(500)
		defer broker.FailWith(0)
		res := request(t, svc, "GET", "/api/credentials/"+id+"/account-data", "", "Cookie", alice)
		require.Equal(t, 502, res.status, res.raw)
		require.Equal(t, "broker_error", res.body["code"])
	})

	requireNoPlaintext(t, svc, dbURL)
	require.Equal(t, 0, svc.Stop(t))
}

// TestRel28_RotateCommand re-seals stored credentials under a new primary key with the real
// binary, then proves the old key is no longer needed.
func TestRel28_RotateCommand(t *testing.T) {
	t.Parallel()
	broker := alpacatest.NewServer(t, map[string]string{canaryKey: canarySecret})
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "ALPACA_PAPER_URL="+broker.URL(), "ALPACA_LIVE_URL="+broker.URL())
	alice := cookieFor(t, dbURL, "alice-rotate")
	id := exerciseCredentials(t, svc, broker, "Cookie", alice, "Origin", "http://app.test")
	require.Equal(t, 0, svc.Stop(t))

	newKey := strings.TrimSpace(runBinary(t, dbURL, "", 0, "credentials", "generate-key", "--id", "e2e-2"))
	require.True(t, strings.HasPrefix(newKey, "e2e-2:"))
	both := newKey + "," + servicetest.Keys

	runBinary(t, dbURL, both, 0, "credentials", "rotate", "--batch", "1")
	var stale int
	servicetest.QueryRow(t, dbURL, `SELECT count(*) FROM user_credentials WHERE api_key_key_id <> 'e2e-2' OR secret_key_key_id <> 'e2e-2'`, &stale)
	require.Zero(t, stale)
	runBinary(t, dbURL, both, 0, "credentials", "rotate") // a second run is a no-op

	svc = servicetest.Start(t, dbURL, "ALPACA_PAPER_URL="+broker.URL(), "CREDENTIAL_KEYS="+newKey)
	res := request(t, svc, "POST", "/api/credentials/"+id+"/validate", "", "Cookie", alice, "Origin", "http://app.test")
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, true, res.body["is_valid"], "readable with the new key alone")

	// Without its key a row fails closed: a generic 500, and a log line naming it.
	svc2 := servicetest.Start(t, dbURL, "ALPACA_PAPER_URL="+broker.URL(), "CREDENTIAL_KEYS="+servicetest.Keys)
	res = request(t, svc2, "POST", "/api/credentials/"+id+"/validate", "", "Cookie", alice, "Origin", "http://app.test")
	require.Equal(t, 500, res.status, res.raw)
	require.Equal(t, "internal", res.body["code"])
	require.NotContains(t, res.raw, id)
	require.Eventually(t, func() bool { return strings.Contains(svc2.Logs.String(), id) }, 2*time.Second, 10*time.Millisecond,
		"the log names the credential that did not open (the line may trail the response)")
}

// runBinary runs a one-shot subcommand and returns its stdout.
func runBinary(t *testing.T, dbURL, keys string, wantExit int, args ...string) string {
	t.Helper()
	code, out, stderr := runCommand(t, []string{"DATABASE_URL=" + dbURL, "CREDENTIAL_KEYS=" + keys}, args...)
	require.Equal(t, wantExit, code, "stderr: %s", stderr)
	return out
}

// One user cannot fill the service: past CREDENTIALS_PER_ACCOUNT every store is 409
// credential_limit, however many arrive at once, and a list is one bounded page.
func TestCredentialLimitHoldsUnderConcurrentStores(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "CREDENTIALS_PER_ACCOUNT=5")
	alice := servicetest.SignIn(t, dbURL, "alice-limit")[0]
	res := request(t, svc, "POST", "/api/accounts/get-or-create", "", alice.Browser()...)
	require.Equal(t, 200, res.status, res.raw)
	accountID := res.body["account"].(map[string]any)["id"].(string)

	c := poolClient(t)
	body := fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AK","secret_key":"SK"}`, accountID)
	results := parallel(30, func(int) rawResponse {
		return send(c, "POST", svc.URL+"/api/credentials/store", body, "Cookie", alice.Cookie(), "Origin", relOrigin)
	})
	created := 0
	for _, r := range results {
		require.NoError(t, r.err)
		switch r.status {
		case 201:
			created++
		case 409:
			require.Contains(t, r.body, `"code":"credential_limit"`)
		default:
			t.Fatalf("unexpected %d: %s", r.status, r.body)
		}
	}
	require.Equal(t, 5, created)
	require.Equal(t, 5, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_credentials`))

	list := request(t, svc, "GET", "/api/credentials?account_id="+accountID+"&limit=2", "", "Cookie", alice.Cookie())
	require.Equal(t, 200, list.status)
	require.Len(t, list.body["credentials"], 2)
	require.NotNil(t, list.body["next_cursor"])
}
