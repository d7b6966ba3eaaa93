package httpadapter

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/brokerly/accounts/ports"
)

// Alpaca's own rate limit on the key pair is 503 broker_rate_limited with the wait Alpaca
// announced as Retry-After, on validate (not is_valid: false: the key is fine) and on
// account-data alike.
func TestBrokerRateLimitIs503WithAlpacasWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	account := e.accountOf(t, asBrowserA())
	cred := e.storeCredential(t, asBrowserA(), account, "")
	e.broker.Fail = fmt.Errorf("alpaca paper: %w", &ports.BrokerBusyError{RetryAfter: 37 * time.Second})

	for _, req := range []*http.Request{
		newRequest(http.MethodPost, "/api/credentials/"+cred.ID+"/validate", "", asBrowserA()),
		newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/account-data", "", withBearer(bearerA)),
	} {
		resp := e.do(req)
		p := requireProblem(t, resp, http.StatusServiceUnavailable, "broker_rate_limited")
		assert.Equal(t, "The broker's rate limit for these credentials is reached; try again later.", p.Detail)
		assert.Equal(t, "37", resp.Header.Get("Retry-After"))
		assert.NotContains(t, p.Detail, "alpaca paper")
	}

	e.broker.Fail = ports.ErrBrokerFailed
	resp := e.do(newRequest(http.MethodGet, "/api/credentials/"+cred.ID+"/account-data", "", withBearer(bearerA)))
	requireProblem(t, resp, http.StatusBadGateway, "broker_error")
	assert.Empty(t, resp.Header.Get("Retry-After"), "a broker failure carries no promise")
}
