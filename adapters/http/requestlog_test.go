package httpadapter

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest/observer"

	"github.com/brokerly/accounts/ports"
)

func TestRequestLog_OneLinePerRequestWithItsFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts?userId=someone&token=secret-in-query", "",
		withCookie(secureCookie, cookieA), withHeader("X-Request-Id", "abc-123.X_y")))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "abc-123.X_y", resp.Header.Get("X-Request-Id"))

	require.Equal(t, 1, e.logs.Len())
	entry := e.logs.All()[0]
	assert.Equal(t, "request", entry.Message)
	f := entry.ContextMap()
	assert.Equal(t, "abc-123.X_y", f["request_id"])
	assert.Equal(t, "GET", f["method"])
	assert.Equal(t, "/api/accounts", f["route"], "the route, no query string")
	assert.NotContains(t, f, "path")
	assert.Equal(t, int64(200), f["status"])
	assert.Contains(t, f, "latency")
	assert.Equal(t, "0.0.0.0", f["remote_ip"]) // app.Test's fake connection
	assert.Equal(t, userA.String(), f["user_id"])
	assert.NotContains(t, f, "error")
}

func TestRequestLog_AnonymousRequestHasNoUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", deliberatelyInvalid())), http.StatusUnauthorized, "unauthenticated")
	require.Equal(t, 1, e.logs.Len())
	f := e.logs.All()[0].ContextMap()
	assert.NotContains(t, f, "user_id")
	assert.Equal(t, int64(401), f["status"])
}

func TestRequestLog_ForeignRequestIDsAreReplaced(t *testing.T) {
	t.Parallel()
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, id := range []string{"", "has space", "<script>", strings.Repeat("a", 65), "a/b", "ü"} {
		t.Run(id, func(t *testing.T) {
			e := newEnv(t)
			resp := e.do(newRequest(http.MethodGet, "/healthz", "", withHeader("X-Request-Id", id)))
			got := resp.Header.Get("X-Request-Id")
			assert.Regexp(t, generated, got)
			assert.Equal(t, got, e.logs.All()[0].ContextMap()["request_id"])
		})
	}
	e := newEnv(t)
	a := e.do(newRequest(http.MethodGet, "/healthz", "")).Header.Get("X-Request-Id")
	b := e.do(newRequest(http.MethodGet, "/healthz", "")).Header.Get("X-Request-Id")
	assert.NotEqual(t, a, b)
	assert.Equal(t, strings.Repeat("a", 64), e.do(newRequest(http.MethodGet, "/healthz", "", withHeader("X-Request-Id", strings.Repeat("a", 64)))).Header.Get("X-Request-Id"))
}

// Rule 14: no cookie, Authorization value, session token or body ever reaches the log,
// whatever the outcome, even when a dependency quotes the session in its error.
func TestRequestLog_NeverLogsSecrets(t *testing.T) {
	t.Parallel()
	const bodyCanary = "AKCANARYBODY0000"
	e := newEnv(t)
	leaky := newEnv(t)
	leaky.verifier.leak = true
	for _, env := range []*env{e, leaky} {
		for _, req := range []*http.Request{
			newRequest(http.MethodPost, "/api/accounts", `{"account_name":"`+bodyCanary+`"}`, asBrowserA()),
			newRequest(http.MethodPost, "/api/accounts", `{"account_name":"`+bodyCanary+`"}`, asBrowserA()),
			newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerB)),
			newRequest(http.MethodPost, "/api/accounts/get-or-create", `{"x":"`+bodyCanary+`"}`, withBearer(bearerB), withJSON()),
			newRequest(http.MethodPost, "/api/accounts", `{"account_name":"`+bodyCanary+`"}`, withCookie(secureCookie, cookieB), withOrigin(evilOrigin), withJSON()),
			newRequest(http.MethodPost, "/api/accounts", `{"account_name":"`+bodyCanary+`"}`, withCookie(secureCookie, cookieB), withOrigin(allowedOrigin), deliberatelyInvalid()),
			newRequest(http.MethodPost, "/api/accounts", `{"account_name":`+bodyCanary, asBrowserA(), deliberatelyInvalid()),
			newRequest(http.MethodPost, "/api/accounts", `{"account_name":"\u0007`+bodyCanary+`"}`, asBrowserA()),
			newRequest(http.MethodGet, "/api/accounts?token="+cookieA, "", withCookie(secureCookie, "garbage"+bodyCanary)),
			newRequest(http.MethodGet, "/api/accounts", "", withHeader("Authorization", "Basic "+bodyCanary), deliberatelyInvalid()),
		} {
			env.do(req)
		}
	}
	leakLines := leaky.logs.FilterFieldKey("error").All()
	require.NotEmpty(t, leakLines, "the leaky error was logged")
	assert.Contains(t, leakLines[0].ContextMap()["error"], "[REDACTED]")

	secrets := []string{cookieA, cookieB, bearerA, bearerB, bodyCanary,
		"tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO", "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh", // bare session tokens
		"w7hbRT/iX/vmLLngikyIbckvKYEqT+ki/ViMsgAlclw="} // the signature, decoded
	for _, logs := range []*observer.ObservedLogs{e.logs, leaky.logs} {
		for _, entry := range logs.All() {
			line := entry.Message + fmt.Sprint(entry.ContextMap())
			for _, s := range secrets {
				assert.NotContains(t, line, s)
			}
		}
	}
}

// Test 27 at the edge: a secret that does not open is a generic 500 for the
// client and a security event in the log.
func TestRequestLog_UndecryptableSecretIsASecurityEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withBroken(failing(fmt.Errorf("open api key of credential 42: %w", ports.ErrUndecryptable))))
	p := requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA))),
		http.StatusInternalServerError, "internal")
	assert.NotContains(t, p.Detail, "decrypt")
	f := e.logs.All()[0].ContextMap()
	assert.Equal(t, "undecryptable_secret", f["security_event"])
	assert.Contains(t, f["error"], "credential 42")

	e = newEnv(t, withBroken(failing(errDatabaseExploded)))
	e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieA)))
	assert.NotContains(t, e.logs.All()[0].ContextMap(), "security_event")
}

// The log line names the user the request's transaction resolved the session to, and no
// user when it resolved to no one.
func TestRequestLog_NamesTheResolvedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerB))).StatusCode)
	require.Equal(t, http.StatusUnauthorized, e.do(newRequest(http.MethodGet, "/api/accounts", "", withCookie(secureCookie, cookieGone))).StatusCode)
	lines := e.logs.FilterMessage("request").All()
	require.Len(t, lines, 2)
	assert.Equal(t, userB.String(), lines[0].ContextMap()["user_id"])
	assert.NotContains(t, lines[1].ContextMap(), "user_id")
}

// A request fasthttp refuses while reading it (here: the read timeout, 408) is logged
// with the time since its first byte, or since the connection opened when it is the
// first: neither the zero time (an overflow to 292 years) nor the start of the previous
// request on a kept-alive connection.
//
// Not parallel: the lower bound reads a timer against the hook's view of the first byte,
// which the package's parallel tests could delay by more than the margin.
func TestRequestLog_RefusedWhileReadingHasItsRealLatency(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	// fasthttp arms its read deadline a moment before the connection-state hook sees the
	// request's first byte, so the logged latency may fall short of the timeout by that.
	const atLeast = readTimeout * 9 / 10
	e := newEnv(t, withConfig(func(c *Config) { c.ReadTimeout = readTimeout }))
	addr := strings.TrimPrefix(e.serve(), "http://")
	timedOut := func() time.Duration {
		t.Helper()
		var lines []observer.LoggedEntry
		require.Eventually(t, func() bool {
			lines = e.logs.FilterField(fieldInt("status", http.StatusRequestTimeout)).All()
			return len(lines) > 0
		}, 5*time.Second, 10*time.Millisecond)
		e.logs.TakeAll()
		d, ok := lines[0].ContextMap()["latency"].(time.Duration)
		require.True(t, ok, "latency is a duration: %v", lines[0].ContextMap())
		return d
	}

	t.Run("first request of a connection", func(t *testing.T) {
		conn := dial(t, addr)
		_, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, conn) // the 408, then the close
		d := timedOut()
		assert.GreaterOrEqual(t, d, atLeast)
		assert.Less(t, d, readTimeout+time.Second)
	})
	t.Run("kept-alive connection", func(t *testing.T) {
		conn := dial(t, addr)
		br := bufio.NewReader(conn)
		_, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		checkRawExchange(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", resp)
		_, _ = io.Copy(io.Discard, resp.Body)
		e.logs.TakeAll()
		const idle = 1500 * time.Millisecond // well past the read timeout, within the idle timeout
		time.Sleep(idle)
		_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, br)
		d := timedOut()
		assert.GreaterOrEqual(t, d, atLeast)
		assert.Less(t, d, idle, "counted from this request's first byte, not the previous request")
	})
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	return conn
}
