package httpadapter

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/brokerly/accounts/internal/keyedrate"
)

// clientFrom is an HTTP client whose connections leave from the loopback address ip, so a
// test can be several clients to the server (Linux routes all of 127.0.0.0/8 to lo).
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return contractClient(t, &http.Client{Transport: tr, Timeout: 10 * time.Second})
}

func getAccounts(t *testing.T, c *http.Client, base string, opts ...reqOption) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/accounts", nil)
	require.NoError(t, err)
	for _, o := range opts {
		o(req)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// Test 32 at the Fiber level: failed authentication is limited per socket
// peer; X-Forwarded-For neither moves a client to another bucket nor shows up in the log;
// an authenticated request is never limited.
func TestRel32_FailedAuthIsLimitedPerSocketPeer(t *testing.T) {
	t.Parallel()
	const burst = 3
	e := newEnv(t, withConfig(func(c *Config) { c.AuthFailureRate = 0.5; c.AuthFailureBurst = burst }))
	base := e.serve()
	attacker, bystander := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	spoof := func(ip string) reqOption {
		return both(withHeader("X-Forwarded-For", ip), withHeader("X-Real-Ip", ip), withCookie(secureCookie, "garbage"))
	}

	for i := range burst {
		requireProblem(t, getAccounts(t, attacker, base, spoof(fmt.Sprintf("203.0.113.%d", i))), http.StatusUnauthorized, "unauthenticated")
	}
	for _, forwarded := range []string{"127.0.0.1", "127.0.0.3", "203.0.113.77"} {
		resp := getAccounts(t, attacker, base, spoof(forwarded))
		requireProblem(t, resp, http.StatusTooManyRequests, "rate_limited")
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, retry, 1)
		assert.LessOrEqual(t, retry, 2, "one token comes back every 2 s")
	}
	assert.Equal(t, http.StatusOK, getAccounts(t, attacker, base, withCookie(secureCookie, cookieA)).StatusCode,
		"a valid session from the limited peer is served")
	requireProblem(t, getAccounts(t, bystander, base, spoof("127.0.0.2")), http.StatusUnauthorized, "unauthenticated")

	for _, entry := range e.logs.All() {
		ip := entry.ContextMap()["remote_ip"]
		assert.Contains(t, []any{"127.0.0.2", "127.0.0.3"}, ip, "the log names the socket peer only")
	}
}

func TestAuthFailureLimit_CanBeTurnedOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withoutLogs(), withConfig(func(c *Config) { c.DisableAuthFailureLimit = true }))
	for range DefaultAuthFailureBurst + 20 {
		resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, "garbage")))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
}

func TestAuthFailureLimit_DefaultsAndValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withoutLogs())
	require.NotNil(t, e.srv.limiter)
	e.srv.limiter.now = (&fakeClock{t: time.Now()}).now // no refill, however slow the run (-race)
	assert.Equal(t, rate.Limit(DefaultAuthFailureRate), e.srv.limiter.clients.Limit())
	assert.Equal(t, DefaultAuthFailureBurst, e.srv.limiter.clients.Burst())
	for range DefaultAuthFailureBurst {
		require.Equal(t, http.StatusUnauthorized, e.do(newRequest(http.MethodGet, "/api/accounts", "", deliberatelyInvalid())).StatusCode)
	}
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", deliberatelyInvalid())), http.StatusTooManyRequests, "rate_limited")

	assert.Error(t, Config{AuthFailureRate: -1}.Validate())
	assert.Error(t, Config{AuthFailureBurst: -1}.Validate())
}

// An infrastructure failure is not the client's failure: it costs no token.
func TestAuthFailureLimit_CountsOnly401s(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withoutLogs(), withConfig(func(c *Config) { c.AuthFailureBurst = 1 }),
		withBroken(failing(fmt.Errorf("resolve session: %w", context.DeadlineExceeded))))
	e.srv.limiter.now = (&fakeClock{t: time.Now()}).now
	for range 5 {
		require.Equal(t, http.StatusGatewayTimeout, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA))).StatusCode)
	}
	require.Equal(t, http.StatusUnauthorized, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, "x"))).StatusCode)
	require.Equal(t, http.StatusTooManyRequests, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, "x"))).StatusCode)
}

// A validly signed session that the transaction finds ended is a failed authentication
// too: it is charged like a bad signature.
func TestAuthFailureLimit_CountsSessionsTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withoutLogs(), withConfig(func(c *Config) { c.AuthFailureBurst = 2 }))
	e.srv.limiter.now = (&fakeClock{t: time.Now()}).now
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieGone))).StatusCode)
	}
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieGone))), http.StatusTooManyRequests, "rate_limited")
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA))).StatusCode,
		"an authenticated request is never limited")
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestAuthLimiter_RefillsAtTheRate(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newAuthLimiter(10, 2)
	l.now = clock.now
	ip := net.ParseIP("192.0.2.1")
	require.NoError(t, l.fail(ip))
	require.NoError(t, l.fail(ip))
	err := l.fail(ip)
	var limited *rateLimitedError
	require.ErrorAs(t, err, &limited)
	assert.Equal(t, 100*time.Millisecond, limited.retryAfter)
	assert.Equal(t, "1", limited.retryAfterSeconds())

	clock.advance(100 * time.Millisecond)
	require.NoError(t, l.fail(ip), "one token back after 1/rate")
	require.Error(t, l.fail(ip))
	require.NoError(t, l.fail(net.ParseIP("192.0.2.2")), "another client has its own bucket")
	require.NoError(t, l.fail(net.ParseIP("::ffff:192.0.2.3")))
	require.NoError(t, l.fail(net.ParseIP("192.0.2.3")))
	require.Error(t, l.fail(net.ParseIP("192.0.2.3")), "IPv4-mapped IPv6 is the same client")
}

func TestAuthLimiter_IPv6ClientsAreTheirSlash64(t *testing.T) {
	t.Parallel()
	l := newAuthLimiter(1, 2)
	require.NoError(t, l.fail(net.ParseIP("2001:db8:1:2::1")))
	require.NoError(t, l.fail(net.ParseIP("2001:db8:1:2:ffff::9")))
	require.Error(t, l.fail(net.ParseIP("2001:db8:1:2:abcd::1")), "rotating the interface id does not help")
	require.NoError(t, l.fail(net.ParseIP("2001:db8:1:3::1")))
}

// The limiter's memory is bounded: idle clients are forgotten and at most
// maxTrackedClients are kept however many addresses an attacker uses.
func TestAuthLimiter_MemoryIsBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newAuthLimiter(1, 1)
	l.now = clock.now
	ip := func(i int) net.IP { return net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)) }
	for i := range maxTrackedClients + 500 {
		_ = l.fail(ip(i))
		require.LessOrEqual(t, l.tracked(), maxTrackedClients)
	}
	require.Error(t, l.fail(ip(maxTrackedClients+499)), "a recent client is still limited")

	clock.advance(keyedrate.SweepEvery)
	require.NoError(t, l.fail(ip(0)))
	assert.Equal(t, 1, l.tracked(), "clients whose buckets refilled are forgotten")
}
