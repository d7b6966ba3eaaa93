package httpadapter

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBeginDrain_ReadinessFailsButRequestsAreServed(t *testing.T) {
	e := newEnv(t)
	e.srv.BeginDrain()
	requireProblem(t, e.do(newRequest(http.MethodGet, "/readyz", "")), http.StatusServiceUnavailable, "unavailable")
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA())).StatusCode)
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/healthz", ""))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Empty(t, resp.Header.Get("Server"), "no product banner")
}

// A session the store resolves to no one (a signed value whose session never existed) is the
// same 401: a signature alone never grants anything.
func TestSignedSessionTheStoreDoesNotKnowIs401(t *testing.T) {
	e := newEnv(t)
	e.verifier.sign("never-issued.sig")
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer("never-issued.sig"))), http.StatusUnauthorized, "unauthenticated")
}

// Better Auth's cookie cache (session_data, chunked near 4 KiB each) travels in the same
// Cookie header as the session; Fiber's 4 KiB default would refuse it.
func TestLargeCookieHeadersFit(t *testing.T) {
	e := newEnv(t)
	cache := strings.Repeat("x", 3900)
	header := fmt.Sprintf("better-auth.session_data.0=%s; better-auth.session_data.1=%s; better-auth.session_data.2=%s; %s=%s",
		cache, cache, cache, secureCookie, cookieA)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withHeader("Cookie", header)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestHugeHeadersAre431(t *testing.T) {
	e := newEnv(t)
	base := e.serve()
	req, err := http.NewRequest(http.MethodGet, base+"/api/accounts", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", secureCookie+"="+cookieA+"; pad="+strings.Repeat("x", 20<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	requireProblem(t, resp, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large")
	assert.Empty(t, e.verifier.proofs())
}

// Test 32: X-Forwarded-For from an untrusted peer changes nothing.
func TestForwardedForIsNotTrusted(t *testing.T) {
	e := newEnv(t)
	base := e.serve()
	req, err := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Real-Ip", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	entries := e.logs.All()
	require.NotEmpty(t, entries)
	assert.Equal(t, "127.0.0.1", entries[len(entries)-1].ContextMap()["remote_ip"])
}

// Test 29 of docs/reliability.md: connections that dribble their headers are closed at ReadTimeout,
// and normal requests are served meanwhile.
func TestSlowHeadersAreCutAtReadTimeout(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	e := newEnv(t, withConfig(func(c *Config) { c.ReadTimeout = readTimeout }))
	base := e.serve()
	addr := strings.TrimPrefix(base, "http://")

	const slow = 200
	var wg sync.WaitGroup
	closedAfter := make([]time.Duration, slow)
	for i := range slow {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		_, err = io.WriteString(conn, "GET /api/accounts HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(io.Discard, conn) // returns when the server closes the connection
			closedAfter[i] = time.Since(start)
		}()
	}

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "normal traffic still works")

	wg.Wait()
	for i, d := range closedAfter {
		assert.Less(t, d, readTimeout+2*time.Second, "slow connection %d was not closed in time", i)
	}
}
