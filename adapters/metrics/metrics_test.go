package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/metrics"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return string(b)
}

type fakeBroker struct{ err error }

func (b fakeBroker) Account(context.Context, credential.Environment, credential.Plaintext, credential.Plaintext) (ports.BrokerAccount, error) {
	return ports.BrokerAccount{}, b.err
}

type fakeCipher struct{ sealErr, openErr error }

func (c fakeCipher) PrimaryKeyID() string { return "k1" }
func (c fakeCipher) Seal(credential.Plaintext, ports.Binding) (credential.Sealed, error) {
	return credential.Sealed{}, c.sealErr
}
func (c fakeCipher) Open(credential.Sealed, ports.Binding) (credential.Plaintext, error) {
	return credential.Plaintext{}, c.openErr
}

// With metrics off (a nil *Metrics) the ports are left as they are, not wrapped.
func TestNilMetricsWrapNothing(t *testing.T) {
	var m *metrics.Metrics
	c, b := fakeCipher{sealErr: errors.New("x")}, fakeBroker{ports.ErrBrokerFailed}
	require.Equal(t, ports.Cipher(c), m.Cipher(c))
	require.Equal(t, ports.Broker(b), m.Broker(b))
}

// Each outcome lands under its own label, and the decorators pass on exactly what the
// wrapped port said.
func TestOutcomesAreCountedAndPassedOn(t *testing.T) {
	m := metrics.New()
	for _, err := range []error{nil, ports.ErrBrokerRejected, &ports.BrokerBusyError{RetryAfter: time.Second}, ports.ErrBrokerFailed, errors.New("other")} {
		_, got := m.Broker(fakeBroker{err}).Account(context.Background(), credential.Paper, credential.Plaintext{}, credential.Plaintext{})
		require.Equal(t, err, got)
	}
	for _, c := range []fakeCipher{{}, {sealErr: errors.New("x"), openErr: ports.ErrUndecryptable}, {openErr: errors.New("y")}} {
		wrapped := m.Cipher(c)
		require.Equal(t, "k1", wrapped.PrimaryKeyID())
		_, err := wrapped.Seal(credential.Plaintext{}, ports.Binding{})
		require.Equal(t, c.sealErr, err)
		_, err = wrapped.Open(credential.Sealed{}, ports.Binding{})
		require.Equal(t, c.openErr, err)
	}
	m.Pool(func() metrics.PoolStats {
		return metrics.PoolStats{InUse: 2, Idle: 3, Max: 8, Acquires: 10, Waits: 4, WaitTime: 1500 * time.Millisecond}
	})

	body := scrape(t, m)
	for _, want := range []string{
		`accounts_broker_calls_total{outcome="ok"} 1`,
		`accounts_broker_calls_total{outcome="rejected"} 1`,
		`accounts_broker_calls_total{outcome="rate_limited"} 1`,
		`accounts_broker_calls_total{outcome="failed"} 2`,
		`accounts_credentials_seals_total{outcome="ok"} 2`,
		`accounts_credentials_seals_total{outcome="error"} 1`,
		`accounts_credentials_opens_total{outcome="ok"} 1`,
		`accounts_credentials_opens_total{outcome="undecryptable"} 1`,
		`accounts_credentials_opens_total{outcome="error"} 1`,
		`accounts_db_pool_connections{state="acquired"} 2`,
		`accounts_db_pool_connections{state="idle"} 3`,
		`accounts_db_pool_max_connections 8`,
		`accounts_db_pool_acquire_waits_total 4`,
		`accounts_db_pool_acquire_wait_seconds_total 1.5`,
	} {
		require.True(t, strings.Contains(body, want), "the scrape lacks %s", want)
	}
}

func TestRequestsAreCountedByTheirLabels(t *testing.T) {
	m := metrics.New()
	m.Request("GET", "/api/credentials/:id", 404, 3*time.Millisecond)
	m.Request("GET", "/api/credentials/:id", 404, 30*time.Millisecond)
	m.Request("POST", "unmatched", 799, time.Millisecond)
	m.Authentication("expired")

	body := scrape(t, m)
	for _, want := range []string{
		`accounts_http_requests_total{method="GET",route="/api/credentials/:id",status="404"} 2`,
		`accounts_http_requests_total{method="POST",route="unmatched",status="799"} 1`,
		`accounts_http_request_duration_seconds_bucket{method="GET",route="/api/credentials/:id",le="0.005"} 1`,
		`accounts_http_request_duration_seconds_count{method="GET",route="/api/credentials/:id"} 2`,
		`accounts_auth_outcomes_total{outcome="expired"} 1`,
		`go_goroutines`,
		`process_cpu_seconds_total`,
	} {
		require.True(t, strings.Contains(body, want), "the scrape lacks %s", want)
	}
}
