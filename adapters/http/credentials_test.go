package httpadapter

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/ports"
)

// accountOf creates the browser user's account and returns its id.
func (e *env) accountOf(t testing.TB, as reqOption) string {
	t.Helper()
	resp := e.do(newRequest(http.MethodPost, "/api/accounts/get-or-create", "", as))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return decodeAs[GetOrCreateResult](t, resp).Account.ID
}

// storeCredential stores, by default, the key pair the fake broker accepts under accountID.
func (e *env) storeCredential(t testing.TB, as reqOption, accountID, body string) Credential {
	t.Helper()
	if body == "" {
		body = fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":%q,"secret_key":%q}`, accountID, validAPIKey, validSecret)
	}
	resp := e.do(newRequest(http.MethodPost, "/api/credentials/store", body, as))
	raw := readBody(t, resp)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var c Credential
	require.NoError(t, jsonUnmarshal(raw, &c))
	return c
}

func TestStoreCredential_Returns201MetadataOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	resp := e.do(newRequest(http.MethodPost, "/api/credentials/store",
		fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":%q,"secret_key":%q,"user_id":%q}`,
			accountID, validAPIKey, validSecret, userB), asBrowserA()))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	raw := string(readBody(t, resp))
	assert.NotContains(t, raw, "CANARY", "neither key nor secret is ever returned")

	var got map[string]any
	require.NoError(t, jsonUnmarshal([]byte(raw), &got))
	assert.ElementsMatch(t, []string{"id", "account_id", "credential_type", "environment", "nickname", "is_active", "created_at", "updated_at"}, keys(got))
	assert.Equal(t, accountID, got["account_id"])
	assert.Equal(t, "alpaca", got["credential_type"])
	assert.Equal(t, "paper", got["environment"], "paper by default")
	assert.Equal(t, "alpaca", got["nickname"], "nickname defaults to the type")
	assert.Equal(t, true, got["is_active"])
	assert.Regexp(t, timestampRE, got["created_at"])
}

func TestStoreCredential_InvalidFieldsAre422(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	cases := map[string]string{
		"bad account id":    `{"account_id":"x","credential_type":"alpaca","api_key":"K","secret_key":"S"}`,
		"unknown type":      fmt.Sprintf(`{"account_id":%q,"credential_type":"ibkr","api_key":"K","secret_key":"S"}`, accountID),
		"bad environment":   fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","environment":"prod","api_key":"K","secret_key":"S"}`, accountID),
		"empty key":         fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"","secret_key":"S"}`, accountID),
		"missing secret":    fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"K"}`, accountID),
		"key of wrong type": fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":42,"secret_key":"S"}`, accountID),
		"long nickname":     fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"K","secret_key":"S","nickname":%q}`, accountID, strings.Repeat("n", 256)),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			p := requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/store", body, asBrowserA(), deliberatelyInvalid())), 422, "validation_failed")
			assert.NotEmpty(t, p.Errors)
		})
	}
	list := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID, "", asBrowserA())))
	assert.Zero(t, list.Count, "no refused request stored anything")
}

func TestStoreCredential_UnderAnotherUsersAccountIs404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountA := e.accountOf(t, asBrowserA())
	e.accountOf(t, asBrowserB())
	body := fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"K","secret_key":"S"}`, accountA)
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/store", body, asBrowserB())), 404, "not_found")

	list := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountA, "", asBrowserA())))
	assert.Zero(t, list.Count)
}

func TestStoreCredential_MalformedAnd415AndAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/store", `{"account_id":`, asBrowserA(), deliberatelyInvalid())), 400, "malformed_json")
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/store", `{}`,
		withCookie(secureCookie, cookieA), withOrigin(allowedOrigin), withHeader("Content-Type", "text/plain"), deliberatelyInvalid())), 415, "unsupported_media_type")
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/store", `{}`, withJSON(), deliberatelyInvalid())), 401, "unauthenticated")
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id=x", "", deliberatelyInvalid())), 401, "unauthenticated")
}

func TestListCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	first := e.storeCredential(t, asBrowserA(), accountID, "")
	second := e.storeCredential(t, asBrowserA(), accountID,
		fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","environment":"live","api_key":"AK2","secret_key":"S2","nickname":"live"}`, accountID))

	resp := e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID, "", withBearer(bearerA)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	list := decodeAs[CredentialList](t, resp)
	assert.Equal(t, "success", list.Status)
	require.Equal(t, 2, list.Count)
	assert.Equal(t, []string{second.ID, first.ID}, []string{list.Credentials[0].ID, list.Credentials[1].ID}, "newest first")

	other := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID, "", withBearer(bearerB))))
	assert.Equal(t, 0, other.Count, "B sees none of A's credentials")
	assert.NotNil(t, other.Credentials)

	p := requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id=nope", "", withBearer(bearerA))), 422, "validation_failed")
	assert.Equal(t, "account_id", p.Errors[0].Field)
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials", "", withBearer(bearerA), deliberatelyInvalid())), 422, "validation_failed")
}

func TestUpdateCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.storeCredential(t, asBrowserA(), e.accountOf(t, asBrowserA()), "")

	resp := e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{"nickname":"  Main keys ","is_active":false}`, asBrowserA()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := decodeAs[Credential](t, resp)
	assert.Equal(t, "Main keys", got.Nickname)
	assert.False(t, got.IsActive)
	assert.Equal(t, c.CreatedAt, got.CreatedAt)

	requireProblem(t, e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{}`, asBrowserA())), 400, "empty_update")
	requireProblem(t, e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{"user_id":"x"}`, asBrowserA())), 400, "empty_update")
	requireProblem(t, e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{"api_key":""}`, asBrowserA(), deliberatelyInvalid())), 422, "validation_failed")
	requireProblem(t, e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{"is_active":"yes"}`, asBrowserA(), deliberatelyInvalid())), 422, "validation_failed")
	requireProblem(t, e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `[`, asBrowserA(), deliberatelyInvalid())), 400, "malformed_json")
	requireProblem(t, e.do(newRequest(http.MethodPut, "/api/credentials/"+domain.NewID(time.Now()).String(), `{"nickname":"x"}`, asBrowserA())), 404, "not_found")
}

func TestDeleteCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.storeCredential(t, asBrowserA(), e.accountOf(t, asBrowserA()), "")
	resp := e.do(newRequest(http.MethodDelete, "/api/credentials/"+c.ID, "", asBrowserA()))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, readBody(t, resp))
	requireProblem(t, e.do(newRequest(http.MethodDelete, "/api/credentials/"+c.ID, "", asBrowserA())), 404, "not_found")
}

func TestValidateCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	good := e.storeCredential(t, asBrowserA(), accountID, "")
	bad := e.storeCredential(t, asBrowserA(), accountID,
		fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","environment":"live","api_key":"AKWRONG","secret_key":"nope"}`, accountID))

	resp := e.do(newRequest(http.MethodPost, "/api/credentials/"+good.ID+"/validate", "", asBrowserA()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"is_valid":true,"message":"Credentials are valid","account_type":"paper"}`, string(readBody(t, resp)))

	resp = e.do(newRequest(http.MethodPost, "/api/credentials/"+bad.ID+"/validate", "", asBrowserA()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	v := decodeAs[map[string]any](t, resp)
	assert.Equal(t, false, v["is_valid"])
	assert.Nil(t, v["account_type"])
	assert.Contains(t, v, "account_type", "account_type is present as null")

	e.broker.Fail = ports.ErrBrokerFailed
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/"+good.ID+"/validate", "", asBrowserA())), 502, "broker_error")
}

func TestAccountData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	good := e.storeCredential(t, asBrowserA(), accountID, "")

	resp := e.do(newRequest(http.MethodGet, "/api/credentials/"+good.ID+"/account-data", "", withBearer(bearerA)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := decodeAs[map[string]any](t, resp)
	assert.Equal(t, "paper", got["account_type"])
	assert.Equal(t, "100000.12", got["balance"], "money stays the broker's decimal string")
	assert.Equal(t, "103820.56", got["equity"])
	assert.Equal(t, "200000.24", got["buying_power"])
	assert.Equal(t, "USD", got["currency"])
	assert.Equal(t, false, got["trading_blocked"])
	assert.EqualValues(t, 2, got["daytrade_count"])
	assert.Regexp(t, timestampRE, got["last_updated"])

	e.broker.Fail = ports.ErrBrokerFailed
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials/"+good.ID+"/account-data", "", withBearer(bearerA))), 502, "broker_error")
	e.broker.Fail = ports.ErrBrokerRejected
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials/"+good.ID+"/account-data", "", withBearer(bearerA))), 502, "broker_error")
	e.broker.Fail = nil

	resp = e.do(newRequest(http.MethodPut, "/api/credentials/"+good.ID, `{"is_active":false}`, asBrowserA()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials/"+good.ID+"/account-data", "", withBearer(bearerA))), 400, "credential_inactive")
	requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/"+good.ID+"/validate", "", asBrowserA())), 400, "credential_inactive")
}

// TestCredentials_AnotherUsersIDLooksLikeARandomOne is test 10 of docs/reliability.md over HTTP: B
// gets exactly the 404 a random id gets, and A's credential does not change.
func TestCredentials_AnotherUsersIDLooksLikeARandomOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.storeCredential(t, asBrowserA(), e.accountOf(t, asBrowserA()), "")
	random := domain.NewID(time.Now()).String()
	before := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+c.AccountID, "", withBearer(bearerA))))

	calls := []struct{ method, suffix, body string }{
		{http.MethodPut, "", `{"nickname":"pwned","is_active":false}`},
		{http.MethodDelete, "", ""},
		{http.MethodPost, "/validate", ""},
		{http.MethodGet, "/account-data", ""},
	}
	for _, call := range calls {
		theirs := e.do(newRequest(call.method, "/api/credentials/"+c.ID+call.suffix, call.body, asBrowserB()))
		missing := e.do(newRequest(call.method, "/api/credentials/"+random+call.suffix, call.body, asBrowserB()))
		theirsBody, missingBody := bodyWithoutInstance(t, theirs), bodyWithoutInstance(t, missing)
		assert.Equal(t, http.StatusNotFound, theirs.StatusCode, "%s %s", call.method, call.suffix)
		assert.Equal(t, string(missingBody), string(theirsBody), "%s %s: same body as a random id", call.method, call.suffix)
	}
	after := decodeAs[CredentialList](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+c.AccountID, "", withBearer(bearerA))))
	assert.Equal(t, before, after, "A's credential is unchanged")
	assert.Empty(t, e.broker.Calls, "B never reached the broker with A's keys")
}

// TestCredentials_SecretsNeverReachResponsesOrLogs is test 12 of docs/reliability.md at the HTTP edge.
func TestCredentials_SecretsNeverReachResponsesOrLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountID := e.accountOf(t, asBrowserA())
	var bodies []string
	record := func(resp *http.Response) { bodies = append(bodies, string(readBody(t, resp))) }

	c := e.storeCredential(t, asBrowserA(), accountID, "")
	record(e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+accountID, "", asBrowserA())))
	record(e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{"api_key":"AKCANARYNEW","secret_key":"SKCANARYNEW"}`, asBrowserA())))
	record(e.do(newRequest(http.MethodPost, "/api/credentials/"+c.ID+"/validate", "", asBrowserA())))
	record(e.do(newRequest(http.MethodGet, "/api/credentials/"+c.ID+"/account-data", "", asBrowserA())))
	record(e.do(newRequest(http.MethodPut, "/api/credentials/"+c.ID, `{"api_key":"has space CANARY"}`, asBrowserA())))
	e.broker.Fail = fmt.Errorf("%w: upstream said no", ports.ErrBrokerFailed)
	record(e.do(newRequest(http.MethodGet, "/api/credentials/"+c.ID+"/account-data", "", asBrowserA())))

	for _, b := range bodies {
		assert.NotContains(t, b, "CANARY")
	}
	for _, entry := range e.logs.All() {
		line := fmt.Sprintf("%s %v", entry.Message, entry.ContextMap())
		assert.NotContains(t, line, "CANARY", "log line: %s", line)
	}
	require.NotEmpty(t, e.logs.All())
}
