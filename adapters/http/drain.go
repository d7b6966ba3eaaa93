package httpadapter

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Bounds on reading a refused body (drainRefusedBody).
const (
	// maxDrainedBody is the most of a refused body the server reads and discards; a
	// larger one is answered at once, and its sender may then see the connection reset.
	maxDrainedBody = 16 << 20
	// drainPause ends the draining when the client sends nothing for that long.
	drainPause = 500 * time.Millisecond
	// drainTailPause replaces it once what is left of a declared body may already have
	// been read with the headers: at most one read buffer.
	drainTailPause = 50 * time.Millisecond
)

// chunkedEnd is how a chunked body ends (the last chunk's data, then the empty chunk),
// short of trailers.
var chunkedEnd = []byte("\r\n0\r\n\r\n")

// drainRefusedBody reads and discards what the client is still sending of a body fasthttp
// refused as too large, before the 413 is written. fasthttp closes the connection right
// after that answer; closing a socket whose received data is unread makes the kernel reset
// the connection, and a client that is still sending (browsers and fetch do not wait for
// 100 Continue) then often loses the answer. Draining is bounded by maxDrainedBody, by the
// read timeout, and by the client pausing; it stops at the end of the body when the body
// shows where that is.
func (s *Server) drainRefusedBody(c *fiber.Ctx) {
	ctx := c.Context()
	conn := ctx.Conn()
	// A declared length survives; a chunked body's request has been reset by fasthttp by
	// now, so it reads as 0: its end is found by its framing instead.
	declared := ctx.Request.Header.ContentLength()
	if conn == nil || declared > maxDrainedBody {
		return
	}
	deadline := s.requestStart(c).Add(s.cfg.ReadTimeout)
	buf := make([]byte, 32<<10)
	window := make([]byte, 0, 2*len(chunkedEnd)) // the last bytes read, to find the end of a chunked body
	drained := 0
	for drained < maxDrainedBody {
		pause := drainPause
		if declared > 0 && declared-drained <= maxHeaderBytes {
			if drained >= declared {
				return
			}
			pause = drainTailPause
		}
		if err := conn.SetReadDeadline(minTime(deadline, time.Now().Add(pause))); err != nil {
			return
		}
		n, err := conn.Read(buf)
		drained += n
		if declared <= 0 && n > 0 {
			window = keepLast(append(window, buf[max(0, n-len(chunkedEnd)):n]...), len(chunkedEnd))
			if bytes.HasSuffix(window, chunkedEnd) {
				return
			}
		}
		if err != nil {
			return // the client paused (it has sent what it will send), closed, or ran out of time
		}
	}
}

// keepLast is the last n bytes of b; it copies nothing when b is no longer than n, and
// otherwise moves them to b's front, so a window appended to this way never grows.
func keepLast(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return b[:copy(b, b[len(b)-n:])]
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
