package httpadapter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exhaustedListener fails its first Accept calls the way accept4 does when the process has
// no descriptor left, then accepts normally.
type exhaustedListener struct {
	net.Listener
	failures atomic.Int32
	errno    syscall.Errno
}

func (l *exhaustedListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", l.errno)}
	}
	return l.Listener.Accept()
}

// serveOn serves e on ln until the test ends and returns the base URL and Serve's result.
func (e *env) serveOn(ln net.Listener) (string, <-chan error) {
	e.t.Helper()
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String(), done
}

func loopbackListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// fasthttp's Serve returns on an accept error that is not a timeout, and the server then
// never answers again while the process lives on. The listener retries instead.
func TestServe_OutlivesRunningOutOfDescriptors(t *testing.T) {
	t.Parallel()
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			e := newEnv(t)
			ln := &exhaustedListener{Listener: loopbackListener(t), errno: errno}
			ln.failures.Store(6)
			base, served := e.serveOn(ln)

			c := contractClient(t, &http.Client{Timeout: 3 * time.Second})
			resp, err := c.Get(base + "/healthz")
			require.NoError(t, err, "the server answers once accept works again")
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			select {
			case err := <-served:
				t.Fatalf("Serve returned: %v", err)
			default:
			}
			warned := e.logs.FilterMessage("accepting connections failed; retrying").All()
			require.NotEmpty(t, warned)
			assert.Contains(t, warned[0].ContextMap()["error"], errno.Error())
		})
	}
}

// Any other accept error ends Serve with an error, so that the process can stop instead
// of living on deaf.
func TestServe_ReportsAPermanentAcceptError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ln := &exhaustedListener{Listener: loopbackListener(t), errno: syscall.EINVAL}
	ln.failures.Store(1)
	_, served := e.serveOn(ln)
	select {
	case err := <-served:
		require.ErrorIs(t, err, syscall.EINVAL)
	case <-time.After(2 * time.Second):
		t.Fatal("Serve kept running on a broken socket")
	}
}

func TestServe_ReportsASocketClosedWithoutShutdown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ln := loopbackListener(t)
	_, served := e.serveOn(ln)
	require.Eventually(t, e.srv.serving.started, time.Second, time.Millisecond)
	require.NoError(t, ln.Close())
	select {
	case err := <-served:
		require.ErrorIs(t, err, errStoppedServing)
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// dialFrom opens a TCP connection to addr from the loopback address ip (Linux routes all of
// 127.0.0.0/8 to lo), so that one test can be several clients.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closes c within a second without answering
// (a connection it keeps would wait for a request until the read timeout).
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
	n, err := c.Read(make([]byte, 1))
	require.Zero(t, n, "the server answered a connection that sent nothing")
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// peerClient is an HTTP client of one loopback address, one connection per request.
func peerClient(t testing.TB, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	return contractClient(t, &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}})
}

// A flood of idle connections from one client is held at MaxConnsPerIP; the probes and
// the other clients, signed in or not, are served meanwhile, and nobody is held off once
// the flood ends.
func TestConnections_BoundPerClientHoldsOffAFlood(t *testing.T) {
	t.Parallel()
	const perIP = 5
	e := newEnv(t, withConfig(func(c *Config) { c.MaxConnsPerIP = perIP }))
	base, _ := e.serveOn(loopbackListener(t))
	addr := strings.TrimPrefix(base, "http://")

	var flood []net.Conn
	for range perIP {
		flood = append(flood, dialFrom(t, "127.0.0.2", addr))
	}
	require.Eventually(t, func() bool { return e.srv.serving.open() == perIP }, 2*time.Second, time.Millisecond)
	for range 3 {
		assert.True(t, closedByServer(t, dialFrom(t, "127.0.0.2", addr)), "a connection past the bound is closed at once")
	}

	probe, err := peerClient(t, "127.0.0.1").Get(base + "/healthz")
	require.NoError(t, err)
	probe.Body.Close()
	assert.Equal(t, http.StatusOK, probe.StatusCode)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/accounts", nil)
	withBearer(bearerA)(req)
	user, err := peerClient(t, "127.0.0.3").Do(req)
	require.NoError(t, err)
	user.Body.Close()
	assert.Equal(t, http.StatusOK, user.StatusCode)
	// The refused connection is closed first, then logged.
	assert.Eventually(t, func() bool {
		return e.logs.FilterMessage("connection refused: too many open connections from one client").Len() > 0
	}, 2*time.Second, time.Millisecond)

	for _, c := range flood {
		require.NoError(t, c.Close())
	}
	require.Eventually(t, func() bool { return e.srv.serving.open() == 0 }, 2*time.Second, time.Millisecond)
	again, err := peerClient(t, "127.0.0.2").Get(base + "/healthz")
	require.NoError(t, err, "the client is served again once its connections are closed")
	again.Body.Close()
}

func TestConnections_OverallBound(t *testing.T) {
	t.Parallel()
	const total = 4
	e := newEnv(t, withConfig(func(c *Config) { c.MaxConns = total }))
	base, _ := e.serveOn(loopbackListener(t))
	addr := strings.TrimPrefix(base, "http://")

	held := []net.Conn{dialFrom(t, "127.0.0.2", addr), dialFrom(t, "127.0.0.3", addr), dialFrom(t, "127.0.0.4", addr), dialFrom(t, "127.0.0.5", addr)}
	require.Eventually(t, func() bool { return e.srv.serving.open() == total }, 2*time.Second, time.Millisecond)
	assert.True(t, closedByServer(t, dialFrom(t, "127.0.0.6", addr)))
	// The refused connection is closed first, then logged.
	assert.Eventually(t, func() bool { return e.logs.FilterMessage("connection refused: too many open connections").Len() > 0 }, 2*time.Second, time.Millisecond)

	require.NoError(t, held[0].Close())
	require.Eventually(t, func() bool { return e.srv.serving.open() == total-1 }, 2*time.Second, time.Millisecond)
	resp, err := peerClient(t, "127.0.0.6").Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestClientOf_GroupsIPv6By64(t *testing.T) {
	t.Parallel()
	a := clientOf(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1")})
	b := clientOf(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::9")})
	c := clientOf(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1")})
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.Equal(t, "192.0.2.1", clientOf(&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1")}).String())
}

func TestConfig_RefusesNegativeConnectionBounds(t *testing.T) {
	t.Parallel()
	require.Error(t, Config{MaxConns: -1}.Validate())
	require.Error(t, Config{MaxConnsPerIP: -1}.Validate())
}
