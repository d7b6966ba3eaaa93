package httpadapter

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// How the listener paces itself.
const (
	// Accept errors the listener outlives (descriptor exhaustion above all) are retried
	// after a pause that doubles from acceptBackoffMin up to acceptBackoffMax: short enough
	// that the server answers again at once when descriptors free up, long enough not to
	// spin.
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = 250 * time.Millisecond
	// At shutdown the listener keeps accepting the connections the kernel has already
	// established until none has come for drainQuiet (closing the socket would reset them,
	// and their clients may have sent a request already), but for at most drainMax.
	drainQuiet = 10 * time.Millisecond
	drainMax   = 250 * time.Millisecond
	// logEvery bounds the listener's warnings to one line per kind per interval.
	logEvery = time.Second
)

// listener is the server's net.Listener. fasthttp's Serve returns on any accept error that
// is not a timeout, and with it the whole server stops answering while the process stays
// up (docs/reliability.md). So this listener
//   - retries temporary accept errors (EMFILE, ENFILE, ECONNABORTED, …) with a backoff;
//   - admits a connection only within the bounds of its connTable, and closes the others
//     at once, so a flood cannot take the descriptors the probes and other clients need;
//   - at shutdown, accepts what is already queued before it closes the socket.
//
// Accept is called by one goroutine, fasthttp's accept loop.
type listener struct {
	inner net.Listener
	conns *connTable
	log   *zap.Logger

	closeOnce sync.Once
	closing   chan struct{} // closed when the listener starts to close
	socketOff sync.Once
	closed    chan struct{} // closed when the socket is
	closeErr  error

	// Owned by the accept goroutine.
	lastAcceptLog, lastRefusalLog time.Time
	acceptFailures, refusals      int
}

func newListener(inner net.Listener, conns *connTable, log *zap.Logger) *listener {
	return &listener{inner: inner, conns: conns, log: log, closing: make(chan struct{}), closed: make(chan struct{})}
}

func (l *listener) Addr() net.Addr { return l.inner.Addr() }

func (l *listener) isClosing() bool {
	select {
	case <-l.closing:
		return true
	default:
		return false
	}
}

// Accept returns the next admitted connection. It returns an error only when the listener
// is closed (net.ErrClosed, which fasthttp takes for the end of Serve) or when the socket
// fails for good.
func (l *listener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		draining := l.isClosing()
		if draining {
			// Take what is queued, but stop waiting once nothing more has come for a while.
			l.setDeadline(time.Now().Add(drainQuiet))
		}
		c, err := l.inner.Accept()
		if err != nil {
			switch {
			case l.isClosing():
				if !draining && errors.Is(err, os.ErrDeadlineExceeded) {
					continue // woken up to drain: the queue has not been looked at yet
				}
				_ = l.closeSocket()
				return nil, net.ErrClosed
			case errors.Is(err, os.ErrDeadlineExceeded):
				l.pause(acceptBackoffMin) // the wake-up call of a close that is just starting
				continue
			case temporaryAcceptError(err):
				backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
				l.warnAcceptError(err, backoff)
				l.pause(backoff)
				continue
			default:
				return nil, fmt.Errorf("http: accept: %w", err)
			}
		}
		backoff = 0
		tc, why := l.conns.admit(c, time.Now())
		if why != admitted {
			_ = c.Close()
			l.warnRefused(why, c)
			continue
		}
		return tc, nil
	}
}

// pause sleeps for d, or until the listener starts to close.
func (l *listener) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.closing:
	}
}

func (l *listener) setDeadline(t time.Time) {
	if d, ok := l.inner.(interface{ SetDeadline(time.Time) error }); ok {
		_ = d.SetDeadline(t)
	}
}

// beginClose makes the accept loop drain the queue and then close the socket.
func (l *listener) beginClose() {
	l.closeOnce.Do(func() {
		// The wake-up deadline comes first: an Accept it cuts short sees the listener
		// closing, or pauses until it does, so it never takes the cut for an empty queue.
		_, canWake := l.inner.(interface{ SetDeadline(time.Time) error })
		if canWake {
			l.setDeadline(time.Now())
		}
		close(l.closing)
		if !canWake {
			_ = l.closeSocket() // nothing to drain with
		}
	})
}

// closeGracefully starts the close and returns once the socket is closed: once the accept
// loop has taken every queued connection, or after drainMax (when no loop is accepting).
func (l *listener) closeGracefully() {
	l.beginClose()
	t := time.NewTimer(drainMax)
	defer t.Stop()
	select {
	case <-l.closed:
	case <-t.C:
		_ = l.closeSocket()
	}
}

// Close closes the socket at once; fasthttp calls it at the end of a shutdown, after
// closeGracefully has done the work.
func (l *listener) Close() error {
	l.beginClose()
	return l.closeSocket()
}

func (l *listener) closeSocket() error {
	l.socketOff.Do(func() {
		l.closeErr = l.inner.Close()
		close(l.closed)
	})
	return l.closeErr
}

// temporaryAcceptError reports errors after which the listening socket still works: the
// process or the system is out of descriptors or buffers, or the connection died in the
// queue (Linux reports the pending network errors listed in accept(2) from accept itself).
func temporaryAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{
		syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPERM,
		syscall.EPROTO, syscall.ENETDOWN, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH,
		syscall.ENOPROTOOPT, syscall.EOPNOTSUPP, syscall.ETIMEDOUT,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

func (l *listener) warnAcceptError(err error, retryIn time.Duration) {
	l.acceptFailures++
	if now := time.Now(); now.Sub(l.lastAcceptLog) >= logEvery {
		l.log.Warn("accepting connections failed; retrying", zap.Error(err),
			zap.Duration("retry_in", retryIn), zap.Int("failures", l.acceptFailures))
		l.lastAcceptLog, l.acceptFailures = now, 0
	}
}

func (l *listener) warnRefused(why refusal, c net.Conn) {
	l.refusals++
	now := time.Now()
	if now.Sub(l.lastRefusalLog) < logEvery {
		return
	}
	msg, limit := "connection refused: too many open connections", l.conns.maxConns
	if why == tooManyFromClient {
		msg, limit = "connection refused: too many open connections from one client", l.conns.maxPerClient
	}
	l.log.Warn(msg, zap.Int("limit", limit), zap.String("remote_ip", clientOf(c.RemoteAddr()).String()),
		zap.Int("refused", l.refusals))
	l.lastRefusalLog, l.refusals = now, 0
}
