package httpadapter

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// requestStarts remembers, per connection, when the request being read began to arrive
// (its first byte). fasthttp stamps a request's time only once it has read all of it, so a
// request it refuses while reading (408, 413, 431, 400) has no time of its own: zero on a
// new connection (a latency of 292 years), the previous request's on a kept-alive one.
type requestStarts struct {
	conns sync.Map // net.Conn → *atomic.Int64, monotonic nanoseconds since clockZero
}

// clockZero makes the stored instants monotonic: a wall-clock step cannot skew a latency.
var clockZero = time.Now()

// hook returns a fasthttp ConnState hook that records each request's first byte (and then
// calls next, if another part of the server set one).
func (r *requestStarts) hook(next func(net.Conn, fasthttp.ConnState)) func(net.Conn, fasthttp.ConnState) {
	return func(c net.Conn, state fasthttp.ConnState) {
		switch state {
		case fasthttp.StateActive: // the first byte of a request has arrived
			now := int64(time.Since(clockZero))
			if v, ok := r.conns.Load(c); ok {
				v.(*atomic.Int64).Store(now)
			} else {
				v := new(atomic.Int64)
				v.Store(now)
				r.conns.Store(c, v)
			}
		case fasthttp.StateClosed, fasthttp.StateHijacked:
			r.conns.Delete(c)
		}
		if next != nil {
			next(c, state)
		}
	}
}

// of is when the request on c began to arrive, if known.
func (r *requestStarts) of(c net.Conn) (time.Time, bool) {
	v, ok := r.conns.Load(c)
	if !ok {
		return time.Time{}, false
	}
	return clockZero.Add(time.Duration(v.(*atomic.Int64).Load())), true
}

// requestStart is when the request began to arrive: its first byte, or, when no byte of it
// was seen (a new connection that timed out before sending any), when the connection was
// accepted, since fasthttp's read timeout runs from there.
func (s *Server) requestStart(c *fiber.Ctx) time.Time {
	ctx := c.Context()
	if t, ok := s.edge.starts.of(ctx.Conn()); ok {
		return t
	}
	if t := ctx.ConnTime(); !t.IsZero() {
		return t
	}
	return ctx.Time()
}
