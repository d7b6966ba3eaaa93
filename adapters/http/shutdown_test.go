package httpadapter

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/keepalive"
)

// keepAlive is a keep-alive client connection (internal/keepalive) whose every answer is
// checked against the OpenAPI document.
type keepAlive struct {
	*keepalive.Conn
	t testing.TB
}

func dialKeepAlive(t testing.TB, addr string) (*keepAlive, error) {
	c, err := keepalive.Dial("", addr)
	if err != nil {
		return nil, err
	}
	return &keepAlive{Conn: c, t: t}, nil
}

// do sends one request and reads its answer. An error means the request was sent on an
// open connection and got no answer.
func (k *keepAlive) do(method, path, body string, headers ...string) (*http.Response, error) {
	raw, resp, err := k.Do(method, path, body, headers...)
	if resp != nil {
		checkRawExchange(k.t, raw, resp)
	}
	return resp, err
}

// A request sent on a keep-alive connection after the shutdown has begun is answered, with
// Connection: close, and only then is the connection closed.
func TestShutdown_AnswersTheNextRequestOnAnOpenConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base, served := e.serveOn(loopbackListener(t))
	addr := strings.TrimPrefix(base, "http://")
	k, err := dialKeepAlive(t, addr)
	require.NoError(t, err)
	defer k.Close()
	first, err := k.do(http.MethodGet, "/healthz", "")
	require.NoError(t, err)
	require.False(t, first.Close, "keep-alive before the shutdown")

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown <- e.srv.Shutdown(ctx)
	}()
	require.Eventually(t, func() bool { return e.srv.serving.closeAfterAnswer.Load() }, time.Second, time.Millisecond)
	_, err = net.DialTimeout("tcp", addr, 100*time.Millisecond)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "the listener is closed")

	next, err := k.do(http.MethodPost, "/api/accounts", `{"account_name":"after shutdown began"}`,
		"Authorization", "Bearer "+bearerA)
	require.NoError(t, err, "the request on the open connection is answered")
	assert.Equal(t, http.StatusCreated, next.StatusCode)
	assert.True(t, next.Close, "and the answer says the connection ends")
	assert.Len(t, e.accountsOf(userA), 1)

	assert.True(t, k.ClosedByServer(time.Second), "the server closes the connection after that answer")
	require.NoError(t, <-shutdown)
	require.NoError(t, <-served)
}

// A connection that sends nothing does not hold the shutdown up for long.
func TestShutdown_ClosesConnectionsThatStayQuiet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base, served := e.serveOn(loopbackListener(t))
	addr := strings.TrimPrefix(base, "http://")
	quiet := dialFrom(t, "127.0.0.1", addr)
	k, err := dialKeepAlive(t, addr)
	require.NoError(t, err)
	defer k.Close()
	_, err = k.do(http.MethodGet, "/livez", "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.srv.serving.open() == 2 }, time.Second, time.Millisecond)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Shutdown(ctx))
	took := time.Since(start)
	assert.Less(t, took, shutdownIdleGrace+time.Second)
	assert.True(t, closedByServer(t, quiet))
	require.NoError(t, <-served)
}

// Connections the kernel has established but the server has not accepted yet when the
// shutdown begins are accepted and answered, not reset.
func TestShutdown_ServesConnectionsStillInTheQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inner := loopbackListener(t).(*net.TCPListener)
	gated := &gatedListener{TCPListener: inner, open: make(chan struct{}), waiting: make(chan struct{})}
	base, served := e.serveOn(gated)
	addr := strings.TrimPrefix(base, "http://")
	<-gated.waiting // the accept loop is held: what follows stays in the kernel's queue

	const queued = 3
	conns := make([]*keepAlive, queued)
	for i := range conns {
		k, err := dialKeepAlive(t, addr)
		require.NoError(t, err)
		defer k.Close()
		conns[i] = k
	}
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown <- e.srv.Shutdown(ctx)
	}()
	require.Eventually(t, e.srv.serving.stopping.Load, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	close(gated.open)

	for i, k := range conns {
		resp, err := k.do(http.MethodGet, "/healthz", "")
		require.NoError(t, err, "queued connection %d", i)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.NoError(t, <-shutdown)
	require.NoError(t, <-served)
}

// gatedListener holds its first Accept until open is closed, like an accept loop that
// has fallen behind.
type gatedListener struct {
	*net.TCPListener
	open      chan struct{}
	waiting   chan struct{}
	onceReady sync.Once
}

func (g *gatedListener) Accept() (net.Conn, error) {
	g.onceReady.Do(func() {
		close(g.waiting)
		<-g.open
	})
	return g.TCPListener.Accept()
}

// Keep-alive clients send GETs and POSTs while the server shuts down: every request sent
// on an open connection is answered; the only failures are connections refused once the
// listener is closed.
func TestShutdown_LosesNoRequestUnderKeepAliveLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base, served := e.serveOn(loopbackListener(t))
	addr := strings.TrimPrefix(base, "http://")

	var mu sync.Mutex
	var answered, lost, refused, lastOnConn int
	var losses []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			var k *keepAlive
			for i := 0; ; i++ {
				select {
				case <-stop:
					if k != nil {
						k.Close()
					}
					return
				default:
				}
				if k == nil {
					var err error
					if k, err = dialKeepAlive(t, addr); err != nil {
						mu.Lock()
						refused++
						mu.Unlock()
						time.Sleep(5 * time.Millisecond)
						continue
					}
				}
				var resp *http.Response
				var err error
				if i%2 == 0 {
					resp, err = k.do(http.MethodGet, "/api/accounts", "", "Authorization", "Bearer "+bearerA)
				} else {
					resp, err = k.do(http.MethodPost, "/api/accounts/get-or-create", "", "Authorization", "Bearer "+bearerB)
				}
				mu.Lock()
				switch {
				case err != nil:
					lost++
					losses = append(losses, fmt.Sprintf("worker %d request %d: %v", w, i, err))
				case resp.StatusCode != http.StatusOK:
					lost++
					losses = append(losses, fmt.Sprintf("worker %d request %d: status %d", w, i, resp.StatusCode))
				default:
					answered++
					if resp.Close {
						lastOnConn++
					}
				}
				mu.Unlock()
				if err != nil || resp.Close {
					k.Close()
					k = nil
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Shutdown(ctx))
	require.NoError(t, <-served)
	close(stop)
	wg.Wait()

	assert.Zero(t, lost, "requests lost: %v", losses)
	assert.Positive(t, answered)
	assert.Positive(t, lastOnConn, "requests in flight during the shutdown were answered, with Connection: close")
	assert.Positive(t, refused, "new connections were refused once the listener closed")
	t.Logf("answered %d (%d with Connection: close), refused connections %d", answered, lastOnConn, refused)
}

// A Serve that starts after Shutdown (a SIGTERM right after the start) closes its socket
// and returns nil: the shutdown came first, nothing failed.
func TestServe_AfterShutdownClosesTheSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.srv.Shutdown(context.Background()))
	ln := loopbackListener(t)
	require.NoError(t, e.srv.Serve(ln))
	_, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}
