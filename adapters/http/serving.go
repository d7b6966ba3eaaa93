package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// shutdownIdleGrace is how long, at shutdown, a connection may wait for its next request
// before it is closed. A client that has just had an answer is likely about to send another
// request on the same connection; closing it under that request would lose it (the client
// cannot tell whether it was processed, and must not resend a POST). So such a connection
// stays open, and its next answer carries Connection: close. One that has been quiet this
// long is closed: the client is not using it.
const shutdownIdleGrace = time.Second

// shutdownPoll is how often a shutdown looks for connections to close.
const shutdownPoll = 20 * time.Millisecond

// errStoppedServing is a Serve that returned without a Shutdown.
var errStoppedServing = errors.New("http: the server stopped accepting connections without a shutdown")

// serving is the server's socket and connections while it serves; the zero value is a
// server that has not served yet.
type serving struct {
	mu               sync.Mutex
	ln               *listener
	conns            *connTable
	stopping         atomic.Bool // Shutdown has begun
	closeAfterAnswer atomic.Bool // every response carries Connection: close
}

// start wraps ln and hooks the connection table and the Connection: close switch into
// fasthttp. A server serves once. It returns nil, and closes ln, when a shutdown came
// first.
func (sv *serving) start(ln net.Listener, cfg Config, fs *fasthttp.Server, log *zap.Logger) (*listener, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.ln != nil {
		return nil, errors.New("http: Serve called twice")
	}
	if sv.stopping.Load() {
		return nil, ln.Close()
	}
	sv.conns = newConnTable(cfg.MaxConns, cfg.MaxConnsPerIP)
	sv.ln = newListener(ln, sv.conns, log)
	// Keep the hook set earlier (the request-start clock of edge.go): fasthttp has one.
	observe, prev := sv.conns.observe, fs.ConnState
	fs.ConnState = func(c net.Conn, state fasthttp.ConnState) {
		observe(c, state)
		if prev != nil {
			prev(c, state)
		}
	}
	next := fs.Handler
	fs.Handler = func(ctx *fasthttp.RequestCtx) {
		next(ctx)
		if sv.closeAfterAnswer.Load() {
			ctx.SetConnectionClose()
		}
	}
	return sv.ln, nil
}

// open is the number of open connections; 0 before Serve.
func (sv *serving) open() int {
	sv.mu.Lock()
	conns := sv.conns
	sv.mu.Unlock()
	if conns == nil {
		return 0
	}
	return conns.open()
}

// started reports whether Serve has begun.
func (sv *serving) started() bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.ln != nil
}

// stop closes the socket (after taking the connections already queued), then tells every
// client that its connection ends with the next answer, closes connections only while they
// wait between requests (see shutdownIdleGrace), and returns once all are closed. At ctx's
// end it closes the rest, busy or not.
func (sv *serving) stop(ctx context.Context) error {
	sv.stopping.Store(true)
	sv.mu.Lock()
	ln, conns := sv.ln, sv.conns
	sv.mu.Unlock()
	if ln == nil {
		return nil
	}
	ln.closeGracefully()
	// Only now, so that clients told to reconnect find the socket closed rather than
	// queue up behind it.
	sv.closeAfterAnswer.Store(true)

	tick := time.NewTicker(shutdownPoll)
	defer tick.Stop()
	for {
		open := conns.closeIdle(time.Now(), shutdownIdleGrace)
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			conns.closeAll()
			return fmt.Errorf("http: closed %d connections still busy at the shutdown deadline: %w", open, ctx.Err())
		case <-tick.C:
		}
	}
}
