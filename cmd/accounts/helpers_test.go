package main

// HTTP helpers of the end-to-end and reliability tests. The binary itself is built,
// started and stopped by internal/servicetest.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

func TestMain(m *testing.M) { servicetest.Main(m) }

const (
	relOrigin  = servicetest.Origin // in every service's CORS_ALLOWED_ORIGINS
	evilOrigin = "https://evil.example"
	devCookie  = servicetest.CookieName
)

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	// sansInstance is a problem body without its instance (checked to be the request's
	// X-Request-Id): what must be the same for two refusals that must look alike.
	sansInstance string
}

var client = &http.Client{Timeout: 10 * time.Second}

// request sends one request to svc; headers come in name/value pairs.
func request(t *testing.T, svc *servicetest.Service, method, path, body string, headers ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, svc.URL+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		require.NoError(t, json.Unmarshal(raw, &out.body), string(raw))
	}
	if res.Header.Get("Content-Type") == "application/problem+json" {
		require.Equal(t, res.Header.Get("X-Request-Id"), out.body["instance"], "a problem names its request: %s", raw)
		rest := map[string]any{}
		for k, v := range out.body {
			if k != "instance" {
				rest[k] = v
			}
		}
		b, err := json.Marshal(rest)
		require.NoError(t, err)
		out.sansInstance = string(b)
	}
	return out
}

// cookieFor signs a user with this id in, as Better Auth would, and returns the browser's
// Cookie header for the session.
func cookieFor(t *testing.T, dbURL, userID string) string {
	t.Helper()
	return servicetest.SignIn(t, dbURL, userID)[0].Cookie()
}

// rawResponse is one request's outcome when failures are data, not test errors.
type rawResponse struct {
	status int
	header http.Header
	body   string
	took   time.Duration
	err    error
}

// send is request for clients other than the default one, tolerating transport errors.
func send(c *http.Client, method, target, body string, headers ...string) rawResponse {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		return rawResponse{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return rawResponse{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return rawResponse{status: res.StatusCode, header: res.Header, body: string(raw), took: time.Since(start), err: err}
}

// parallel runs n calls at once (released together) and returns their results in order.
func parallel(n int, call func(i int) rawResponse) []rawResponse {
	out := make([]rawResponse, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// loopbackClient is an HTTP client whose connections leave from the loopback address ip
// (Linux routes all of 127.0.0.0/8 to lo), so a test can be several peers of the service.
func loopbackClient(t testing.TB, ip string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// poolClient keeps enough idle connections for parallel tests.
func poolClient(t testing.TB) *http.Client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 600, MaxConnsPerHost: 0}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
