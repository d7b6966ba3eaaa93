package httpadapter

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

func TestLiveness_NeverAsksTheDatabase(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	e := newEnv(t,
		withBroken(failing(ports.ErrUnavailable)),
		withReady(func(context.Context) error { calls.Add(1); return ports.ErrUnavailable }))
	for _, path := range []string{"/healthz", "/livez"} {
		resp := e.do(newRequest(http.MethodGet, path, ""))
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.JSONEq(t, `{"status":"ok"}`, string(readBody(t, resp)))
	}
	assert.Zero(t, calls.Load())
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	t.Run("ready", func(t *testing.T) {
		e := newEnv(t, withReady(func(context.Context) error { return nil }))
		resp := e.do(newRequest(http.MethodGet, "/readyz", ""))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.JSONEq(t, `{"status":"ready"}`, string(readBody(t, resp)))
	})
	t.Run("no check configured", func(t *testing.T) {
		e := newEnv(t)
		require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/readyz", "")).StatusCode)
	})
	t.Run("database down", func(t *testing.T) {
		e := newEnv(t, withReady(func(context.Context) error { return errDatabaseExploded }))
		resp := e.do(newRequest(http.MethodGet, "/readyz", ""))
		p := requireProblem(t, resp, http.StatusServiceUnavailable, "unavailable")
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		assert.NotContains(t, p.Detail, "SQLSTATE")
		assert.Contains(t, e.logs.FilterFieldKey("error").All()[0].ContextMap()["error"], "SQLSTATE", "the cause is logged")
	})
	t.Run("black hole answers within the 1 s check timeout", func(t *testing.T) {
		e := newEnv(t, withReady(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}))
		start := time.Now()
		resp := e.do(newRequest(http.MethodGet, "/readyz", ""))
		requireProblem(t, resp, http.StatusServiceUnavailable, "unavailable")
		assert.Less(t, time.Since(start), 1500*time.Millisecond)
		assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
	})
}

func TestShutdown_ReadinessIs503AtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/readyz", "")).StatusCode)
	require.NoError(t, e.srv.Shutdown(context.Background()))
	requireProblem(t, e.do(newRequest(http.MethodGet, "/readyz", "")), http.StatusServiceUnavailable, "unavailable")
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/livez", "")).StatusCode, "still alive while draining")
}

// gate holds every account call until released, like a row lock (test 38).
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) wait() {
	g.once.Do(func() { close(g.entered) })
	<-g.release
}

// heldAccounts is the store's account repository behind a gate.
type heldAccounts struct {
	ports.AccountRepository
	gate *gate
}

func (h heldAccounts) Add(ctx context.Context, s user.Session, open ports.OpenAccount) (account.Account, error) {
	h.gate.wait()
	return h.AccountRepository.Add(ctx, s, open)
}

func (h heldAccounts) AddIfAbsent(ctx context.Context, s user.Session, open ports.OpenAccount) (account.Account, bool, error) {
	h.gate.wait()
	return h.AccountRepository.AddIfAbsent(ctx, s, open)
}

// In-flight requests finish during a graceful shutdown; new connections are refused.
func TestShutdown_InFlightRequestCompletes(t *testing.T) {
	t.Parallel()
	gate := newGate()
	e := newEnv(t, withGate(gate))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	type result struct {
		status int
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/accounts", strings.NewReader(`{"account_name":"x"}`))
		asBrowserA()(req)
		resp, err := contractClient(t, nil).Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		resp.Body.Close()
		inflight <- result{status: resp.StatusCode}
	}()
	<-gate.entered

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown <- e.srv.Shutdown(ctx)
	}()
	require.Eventually(t, e.srv.draining.Load, time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 2*time.Second, 10*time.Millisecond, "new connections are refused")

	time.Sleep(200 * time.Millisecond) // the request is still held: shutdown must wait for it
	select {
	case err := <-shutdown:
		t.Fatalf("shutdown returned before the in-flight request finished: %v", err)
	default:
	}
	close(gate.release)

	r := <-inflight
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusCreated, r.status)
	require.NoError(t, <-shutdown)
	require.NoError(t, <-served)
	assert.Len(t, e.accountsOf(userA), 1, "committed once")
}

func TestShutdown_ContextBoundsTheWait(t *testing.T) {
	t.Parallel()
	gate := newGate()
	defer close(gate.release)
	e := newEnv(t, withGate(gate))
	base := e.serve()
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/accounts/get-or-create", nil)
		req.Header.Set("Authorization", "Bearer "+bearerA)
		if resp, err := contractClient(t, nil).Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-gate.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}
