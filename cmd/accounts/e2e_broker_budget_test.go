package main

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One session firing validate and account-data as fast as it can reaches Alpaca only as
// often as its budget allows; the rest is 429 rate_limited with Retry-After, and another
// user is still served.
func TestBrokerCallsAreLimitedPerUser(t *testing.T) {
	t.Parallel()
	const burst = 3
	f := newRelFixture(t, "BROKER_RATE_PER_MINUTE=1", "BROKER_BURST="+strconv.Itoa(burst))
	alice := f.user(t, "alice-budget", canaryKey, canarySecret)
	bob := f.user(t, "bob-budget", canaryKey, canarySecret)
	before := f.broker.Calls()

	c := poolClient(t)
	results := parallel(40, func(i int) rawResponse {
		if i%2 == 0 {
			return send(c, "POST", f.svc.URL+"/api/credentials/"+alice.credentialID+"/validate", "", alice.Browser()...)
		}
		return send(c, "GET", f.svc.URL+"/api/credentials/"+alice.credentialID+"/account-data", "", "Authorization", alice.Bearer())
	})
	served := 0
	for _, r := range results {
		require.NoError(t, r.err)
		if r.status == 200 {
			served++
			continue
		}
		require.Equal(t, 429, r.status, r.body)
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &p))
		assert.Equal(t, "rate_limited", p["code"])
		assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		retry, err := strconv.Atoi(r.header.Get("Retry-After"))
		require.NoError(t, err)
		assert.True(t, retry >= 1 && retry <= 60, "a call comes back every minute: Retry-After %d", retry)
	}
	assert.Equal(t, burst, served)
	// Identical calls in flight at once share one request to Alpaca, so the budget is an
	// upper bound on what reaches it.
	calls := f.broker.Calls() - before
	assert.True(t, calls >= 1 && calls <= burst, "only the budget reached the broker: %d calls", calls)

	res := request(t, f.svc, "POST", "/api/credentials/"+bob.credentialID+"/validate", "", bob.Browser()...)
	require.Equal(t, 200, res.status, "another user has a budget of their own: %s", res.raw)
}
