package httpadapter

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The trail as the owner reads it: newest first, request ids, paged with limit and before.
func TestCredentialEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	account := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), account, "")
	validate := newRequest(http.MethodPost, "/api/credentials/"+cred.ID+"/validate", "", asBrowserA(), withHeader("X-Request-Id", "trace-validate-1"))
	require.Equal(t, http.StatusOK, e.do(validate).StatusCode)
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/account-data", "", withBearer(bearerA))).StatusCode)

	resp := e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events", "", withBearer(bearerA)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	list := decodeAs[map[string]any](t, resp)
	assert.Equal(t, "success", list["status"])
	assert.EqualValues(t, 3, list["count"])
	assert.Nil(t, list["next_before"])
	events := list["events"].([]any)
	var actions []string
	for _, raw := range events {
		ev := raw.(map[string]any)
		actions = append(actions, ev["action"].(string)+" "+ev["outcome"].(string))
		assert.ElementsMatch(t, []string{"id", "action", "outcome", "request_id", "impersonated_by", "created_at"}, keys(ev))
		assert.Nil(t, ev["impersonated_by"])
		assert.Regexp(t, timestampRE, ev["created_at"])
		assert.Regexp(t, `^[0-9a-f]{8}-`, ev["id"])
		assert.NotEmpty(t, ev["request_id"], "every event names its request")
	}
	assert.Equal(t, []string{"account_data_read ok", "validated ok", "stored ok"}, actions)
	assert.Equal(t, "trace-validate-1", events[1].(map[string]any)["request_id"], "the request id the log has too")

	// Pages: limit and before, and where the next one starts.
	resp = e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events?limit=2", "", withBearer(bearerA)))
	first := decodeAs[map[string]any](t, resp)
	assert.EqualValues(t, 2, first["count"])
	next, ok := first["next_before"].(string)
	require.True(t, ok, "a full page with more after it says where to go on")
	assert.Equal(t, first["events"].([]any)[1].(map[string]any)["id"], next)
	rest := decodeAs[map[string]any](t, e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events?limit=2&before="+next, "", withBearer(bearerA))))
	assert.EqualValues(t, 1, rest["count"])
	assert.Equal(t, "stored", rest["events"].([]any)[0].(map[string]any)["action"])
	assert.Nil(t, rest["next_before"])
}

// Another user's credential, a deleted one of someone else's, and a random id give the same
// 404; the owner keeps the trail of what they deleted.
func TestCredentialEventsAreTheOwnersAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	account := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), account, "")
	e.accountOf(t, asBrowserB())

	random := e.do(newRequest(http.MethodGet, "/api/credentials/0192f8a4-0000-7000-8000-000000000000/events", "", withBearer(bearerB)))
	requireProblem(t, random, http.StatusNotFound, "not_found")
	randomBody := string(readBody(t, random))
	others := e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events", "", withBearer(bearerB)))
	requireProblem(t, others, http.StatusNotFound, "not_found")
	require.Equal(t, randomBody, string(readBody(t, others)), "indistinguishable from an id that never was")
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials/not-a-uuid/events", "", withBearer(bearerA))), http.StatusNotFound, "not_found")

	require.Equal(t, http.StatusNoContent, e.do(newRequest(http.MethodDelete, "/api/credentials/"+cred.ID, "", asBrowserA())).StatusCode)
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events", "", withBearer(bearerB))), http.StatusNotFound, "not_found")
	mine := decodeAs[map[string]any](t, e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events", "", withBearer(bearerA))))
	assert.EqualValues(t, 2, mine["count"])
	assert.Equal(t, "deleted", mine["events"].([]any)[0].(map[string]any)["action"])
}

func TestCredentialEventsRefusesBadLimitsAndBefores(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cred := e.storeCredential(t, asBrowserA(), e.accountOf(t, asBrowserA()), "")
	for query, field := range map[string]string{
		"limit=0": "limit", "limit=201": "limit", "limit=ten": "limit", "limit=-1": "limit",
		"before=yesterday": "before", "before=00000000-0000-0000-0000-000000000000": "before",
	} {
		resp := e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events?"+query, "", withBearer(bearerA), deliberatelyInvalid()))
		p := requireProblem(t, resp, http.StatusUnprocessableEntity, "validation_failed")
		require.Len(t, p.Errors, 1, query)
		assert.Equal(t, field, p.Errors[0].Field, query)
	}
	resp := e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events?limit=200", "", withBearer(bearerA)))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// An impersonating admin reads (accounts, credentials, the trail) but every credential write
// and broker call is 403 impersonation_forbidden, each refusal in the trail with the admin.
func TestImpersonationReadsButCannotTouchSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	account := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), account, "")
	const impersonation = "IMPERSONATEDimpersonatedIMPERSON.c2lnbmF0dXJl"
	admin := mustUser("adminAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	e.verifier.sign(impersonation)
	e.store.AddImpersonatedSession(tokenOf(impersonation), userA, admin)
	asAdmin := withBearer(impersonation)

	for _, path := range []string{"/api/accounts", "/api/credentials?account_id=" + account, "/api/credentials/" + cred.ID + "/events"} {
		assert.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, path, "", asAdmin)).StatusCode, path)
	}
	for _, req := range []*http.Request{
		newRequest(http.MethodPost, "/api/credentials/store", `{"account_id":"`+account+`","credential_type":"alpaca","api_key":"AK","secret_key":"S"}`, asAdmin, withJSON()),
		newRequest(http.MethodPut, "/api/credentials/"+cred.ID, `{"secret_key":"stolen"}`, asAdmin, withJSON()),
		newRequest(http.MethodDelete, "/api/credentials/"+cred.ID, "", asAdmin),
		newRequest(http.MethodPost, "/api/credentials/"+cred.ID+"/validate", "", asAdmin),
		newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/account-data", "", asAdmin),
	} {
		p := requireProblem(t, e.do(req), http.StatusForbidden, "impersonation_forbidden")
		assert.Equal(t, "An impersonated session may read but not change or use broker credentials.", p.Detail)
		assert.NotContains(t, p.Detail, admin.String())
	}
	assert.Empty(t, e.broker.Calls, "the broker is never asked")

	list := decodeAs[map[string]any](t, e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/events", "", withBearer(bearerA))))
	var refused []string
	for _, raw := range list["events"].([]any) {
		ev := raw.(map[string]any)
		if ev["outcome"] == "refused" {
			refused = append(refused, ev["action"].(string))
			assert.Equal(t, admin.String(), ev["impersonated_by"])
		}
	}
	assert.Equal(t, []string{"account_data_read", "validated", "deleted", "updated"}, refused)
	creds := decodeAs[map[string]any](t, e.do(newRequest(http.MethodGet, "/api/credentials?account_id="+account, "", withBearer(bearerA))))
	assert.EqualValues(t, 1, creds["count"], "nothing was stored, nothing deleted")
}
