package httpadapter

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A user past their broker budget gets 429 rate_limited with Retry-After on validate and
// account-data, the broker is not asked, and another user is served.
func TestBrokerBudget_SpentIs429WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accountA := e.accountOf(t, asBrowserA())
	credA := e.storeCredential(t, asBrowserA(), accountA, "")
	accountB := e.accountOf(t, asBrowserB())
	credB := e.storeCredential(t, asBrowserB(), accountB, "")
	e.budget.Limit(1, 1500*time.Millisecond)

	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodPost, "/api/credentials/"+credA.ID+"/validate", "", asBrowserA())).StatusCode)
	for _, req := range []*http.Request{
		newRequest(http.MethodPost, "/api/credentials/"+credA.ID+"/validate", "", asBrowserA()),
		newRequest(http.MethodGet, "/api/credentials/"+credA.ID+"/account-data", "", withBearer(bearerA)),
	} {
		resp := e.do(req)
		p := requireProblem(t, resp, http.StatusTooManyRequests, "rate_limited")
		assert.Equal(t, "Too many broker requests for this user; try again later.", p.Detail)
		assert.Equal(t, "2", resp.Header.Get("Retry-After"), "whole seconds, rounded up")
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.Empty(t, resp.Header.Get("WWW-Authenticate"), "the session is fine")
	}
	assert.Len(t, e.broker.Calls, 1, "a refused call never reaches the broker")

	resp := e.do(newRequest(http.MethodGet, "/api/credentials/"+credB.ID+"/account-data", "", withBearer(bearerB)))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "B has a budget of their own")
}

// A budget spent is not a failed authentication: it costs the client IP nothing.
func TestBrokerBudget_SpentIsNotAnAuthenticationFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withoutLogs(), withConfig(func(c *Config) { c.AuthFailureBurst = 1 }))
	account := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), account, "")
	e.budget.Limit(0, time.Second)
	for range 3 {
		requireProblem(t, e.do(newRequest(http.MethodPost, "/api/credentials/"+cred.ID+"/validate", "", asBrowserA())), http.StatusTooManyRequests, "rate_limited")
	}
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, "garbage"))), http.StatusUnauthorized, "unauthenticated")
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", 59 * time.Second: "59"} {
		assert.Equal(t, want, retryAfterSeconds(d), "%v", d)
	}
}
