package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// scrape reads the metrics listener's text exposition.
func scrape(t *testing.T, svc *servicetest.Service) string {
	t.Helper()
	require.NotEmpty(t, svc.MetricsURL, "metrics are on in tests")
	res, err := http.Get(svc.MetricsURL + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// The metrics of docs/api.md "Metrics", scraped from the real binary after real traffic:
// requests by route template, authentication by reason, the pool, seals and opens, broker
// calls, Go and the process; no id of any user, credential or session in any label; and
// nothing of it on the public listener.
func TestMetricsCountWhatHappenedWithoutNamingAnyone(t *testing.T) {
	t.Parallel()
	f := newRelFixture(t)
	alice := f.user(t, "alice-metrics", canaryKey, canarySecret)
	request(t, f.svc, "POST", "/api/credentials/"+alice.credentialID+"/validate", "", alice.Browser()...)
	request(t, f.svc, "GET", "/api/credentials/"+alice.credentialID+"/account-data", "", "Authorization", alice.Bearer())
	request(t, f.svc, "GET", "/api/credentials/"+alice.credentialID+"/events", "", "Authorization", alice.Bearer())
	request(t, f.svc, "GET", "/api/accounts", "")
	request(t, f.svc, "GET", "/api/accounts", "", "Authorization", "Bearer forged.c2lnbmF0dXJl")
	gone := servicetest.SignIn(t, f.dbURL, "gone-metrics")[0]
	servicetest.Exec(t, f.dbURL, `DELETE FROM "session" WHERE token = $1`, gone.Token) // signed out
	request(t, f.svc, "GET", "/api/accounts", "", "Authorization", gone.Bearer())

	body := scrape(t, f.svc)
	for _, want := range []string{
		`accounts_http_requests_total{method="POST",route="/api/accounts/get-or-create",status="200"} 1`,
		`accounts_http_requests_total{method="POST",route="/api/credentials/store",status="201"} 1`,
		`accounts_http_requests_total{method="POST",route="/api/credentials/:id/validate",status="200"} 1`,
		`accounts_http_requests_total{method="GET",route="/api/credentials/:id/account-data",status="200"} 1`,
		`accounts_http_requests_total{method="GET",route="/api/credentials/:id/events",status="200"} 1`,
		`accounts_http_requests_total{method="GET",route="/api/accounts",status="401"} 3`,
		`accounts_http_request_duration_seconds_bucket{method="GET",route="/api/credentials/:id/events",le="+Inf"} 1`,
		`accounts_auth_outcomes_total{outcome="ok"} 5`,
		`accounts_auth_outcomes_total{outcome="no_credentials"} 1`,
		`accounts_auth_outcomes_total{outcome="bad_signature"} 1`,
		`accounts_auth_outcomes_total{outcome="unknown_session"} 1`,
		`accounts_credentials_seals_total{outcome="ok"} 2`,
		`accounts_credentials_opens_total{outcome="ok"} 4`,
		`accounts_broker_calls_total{outcome="ok"} 2`,
		`accounts_broker_call_duration_seconds_count{outcome="ok"} 2`,
		`accounts_db_pool_connections{state="idle"}`,
		`accounts_db_pool_max_connections 8`,
		`accounts_db_pool_acquires_total`,
		`accounts_db_pool_acquire_wait_seconds_total`,
		`go_goroutines`,
		`go_memstats_heap_alloc_bytes`,
		`process_resident_memory_bytes`,
		`process_open_fds`,
	} {
		assert.True(t, strings.Contains(body, want), "the scrape lacks %s", want)
	}
	labels := regexp.MustCompile(`\{[^}]*\}`).FindAllString(body, -1)
	for _, secret := range []string{alice.credentialID, alice.accountID, "alice-metrics", alice.Value(), gone.Value(), canaryKey} {
		for _, l := range labels {
			require.NotContains(t, l, secret)
		}
	}
	require.False(t, strings.Contains(body, "path="), "no raw path label")

	res := request(t, f.svc, "GET", "/metrics", "")
	require.Equal(t, 404, res.status, "never on the public listener")
}
