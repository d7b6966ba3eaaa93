package httpadapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBeginDrain_ReadinessFailsButRequestsAreServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.BeginDrain()
	requireProblem(t, e.do(newRequest(http.MethodGet, "/readyz", "")), http.StatusServiceUnavailable, "unavailable")
	require.Equal(t, http.StatusCreated, e.do(newRequest(http.MethodPost, "/api/accounts", `{"account_name":"x"}`, asBrowserA())).StatusCode)
}

// Every response carries the security headers and no product banner: those of the
// handlers, and those fasthttp and Fiber answer before any middleware (a body over the
// limit, oversized headers, a read timeout, an unparsable request, an unknown method).
// Each answer is problem JSON with a request id.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *Config) { c.ReadTimeout = 300 * time.Millisecond }))
	addr := strings.TrimPrefix(e.serve(), "http://")
	cookie := "Cookie: " + secureCookie + "=" + cookieA + "\r\n"
	requests := map[string]struct {
		raw    string
		status int
	}{
		"handled":                 {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		"head":                    {"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		"preflight":               {"OPTIONS /api/accounts HTTP/1.1\r\nHost: x\r\nOrigin: " + allowedOrigin + "\r\nAccess-Control-Request-Method: POST\r\n\r\n", 204},
		"no route":                {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		"method the route lacks":  {"DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		"unauthenticated":         {"GET /api/accounts HTTP/1.1\r\nHost: x\r\n\r\n", 401},
		"body over the limit":     {"POST /api/accounts HTTP/1.1\r\nHost: x\r\n" + cookie + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n", 413},
		"headers over the limit":  {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("x", 20<<10) + "\r\n\r\n", 431},
		"read timeout":            {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 408},
		"unparsable request line": {"GARBAGE\r\n\r\n", 400},
		"bad content length":      {"POST /api/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", 400},
		"broken chunk":            {"POST /api/accounts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
		"unknown method":          {"FOO /api/accounts HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	}
	for name, tc := range requests {
		t.Run(name, func(t *testing.T) {
			conn := dial(t, addr)
			_, err := io.WriteString(conn, tc.raw)
			require.NoError(t, err)
			method, _, _ := strings.Cut(tc.raw, " ")
			resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
			require.NoError(t, err)
			checkRawExchange(t, tc.raw, resp)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode, "%s", body)
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.Empty(t, resp.Header.Get("Server"), "no product banner")
			assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
			if tc.status >= 400 {
				assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s", body)
				var p Problem
				require.NoError(t, json.Unmarshal(body, &p), "%s", body)
				assert.Equal(t, tc.status, p.Status)
			}
		})
	}
}

// A session the store resolves to no one (a signed value whose session never existed) is the
// same 401: a signature alone never grants anything.
func TestSignedSessionTheStoreDoesNotKnowIs401(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.verifier.sign("never-issued.sig")
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer("never-issued.sig"))), http.StatusUnauthorized, "unauthenticated")
}

// Better Auth's cookie cache (session_data, chunked near 4 KiB each) travels in the same
// Cookie header as the session; Fiber's 4 KiB default would refuse it.
func TestLargeCookieHeadersFit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cache := strings.Repeat("x", 3900)
	header := fmt.Sprintf("better-auth.session_data.0=%s; better-auth.session_data.1=%s; better-auth.session_data.2=%s; %s=%s",
		cache, cache, cache, secureCookie, cookieA)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withHeader("Cookie", header)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestHugeHeadersAre431(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.serve()
	req, err := http.NewRequest(http.MethodGet, base+"/api/accounts", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", secureCookie+"="+cookieA+"; pad="+strings.Repeat("x", 20<<10))
	resp, err := contractClient(t, nil).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	requireProblem(t, resp, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large")
	assert.Empty(t, e.verifier.proofs())
}

// Test 32: X-Forwarded-For from an untrusted peer changes nothing.
func TestForwardedForIsNotTrusted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.serve()
	req, err := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Real-Ip", "203.0.113.9")
	resp, err := contractClient(t, nil).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	entries := e.logs.All()
	require.NotEmpty(t, entries)
	assert.Equal(t, "127.0.0.1", entries[len(entries)-1].ContextMap()["remote_ip"])
}

// Test 29 of docs/reliability.md: connections that dribble their headers are closed at ReadTimeout,
// and normal requests are served meanwhile.
func TestSlowHeadersAreCutAtReadTimeout(t *testing.T) {
	t.Parallel()
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

	resp, err := contractClient(t, nil).Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "normal traffic still works")

	wg.Wait()
	for i, d := range closedAfter {
		assert.Less(t, d, readTimeout+2*time.Second, "slow connection %d was not closed in time", i)
	}
}

// Test 29's refusal as ordinary clients see it: Go's net/http client, like browsers and
// Node's fetch, sends a large body without waiting for 100 Continue. The server refuses it
// after the headers and then closes the connection; it must read what the client keeps
// sending first, or the close resets the connection under the client and costs it the
// 413. Declared, chunked and 100-continue uploads of 5 MB all get the problem body.
func TestOversizedBodyGetsIts413NotAReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.serve()
	client := contractClient(t, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second}})
	body := bytes.Repeat([]byte("a"), 5<<20)
	for _, framing := range []string{"declared", "chunked", "100-continue"} {
		t.Run(framing, func(t *testing.T) {
			for range 5 {
				req, err := http.NewRequest(http.MethodPost, base+"/api/accounts", bytes.NewReader(body))
				require.NoError(t, err)
				deliberatelyInvalid()(req) // not JSON: the server must refuse it on its size
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+bearerA)
				switch framing {
				case "chunked":
					req.ContentLength = -1
					req.Body = io.NopCloser(bytes.NewReader(body)) // no length to find
				case "100-continue":
					req.Header.Set("Expect", "100-continue")
				}
				resp, err := client.Do(req)
				require.NoError(t, err, "the client got an answer, not a reset")
				p := requireProblem(t, resp, http.StatusRequestEntityTooLarge, "payload_too_large")
				assert.Equal(t, "The request body is too large.", p.Detail)
				assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			}
		})
	}
	assert.Empty(t, e.accountsOf(userA), "nothing was stored")
}

// Every route the server has is in the contract (docs/api.md) and in the README's API
// table, and both list no route it lacks.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	routes := map[string]bool{}
	for pattern, methods := range e.srv.allow {
		path := regexp.MustCompile(`:(\w+)`).ReplaceAllString(pattern, "{$1}")
		for _, m := range methods {
			if m != http.MethodHead { // every GET route also answers HEAD, as documented
				routes[m+" "+path] = true
			}
		}
	}
	// The service's own paths; the docs also name the broker's (GET /v2/account).
	documented := regexp.MustCompile("`((?:GET|HEAD|POST|PUT|PATCH|DELETE) /(?:api/|healthz|livez|readyz|openapi\\.json|docs)[^` ?]*)")
	for _, doc := range []string{"../../docs/api.md", "../../README.md"} {
		t.Run(doc, func(t *testing.T) {
			text, err := os.ReadFile(doc)
			require.NoError(t, err)
			found := map[string]bool{}
			for _, m := range documented.FindAllStringSubmatch(string(text), -1) {
				found[m[1]] = true
			}
			for r := range routes {
				assert.True(t, found[r], "%s is not documented in %s", r, doc)
			}
			for r := range found {
				assert.True(t, routes[r], "%s documents %s, which the server does not have", doc, r)
			}
		})
	}
}
