package httpadapter

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/brokerly/accounts/internal/keyedrate"
)

// Defaults for the failed-authentication limit (a zero Config field).
const (
	DefaultAuthFailureRate  = 20.0 // failed attempts per second a client IP earns back
	DefaultAuthFailureBurst = 100  // failed attempts a client IP may make at once
	// maxTrackedClients bounds the limiter's memory: beyond it, idle buckets are dropped
	// first and then the least recently used (a dropped client starts again with a full bucket).
	maxTrackedClients = 10_000
)

// errRateLimited is a client that failed authentication too often: 429 with Retry-After.
var errRateLimited = errors.New("too many failed authentication attempts")

// rateLimitedError carries the Retry-After of one refusal.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string { return errRateLimited.Error() }
func (e *rateLimitedError) Unwrap() error { return errRateLimited }

// retryAfterSeconds is the Retry-After header value: whole seconds, at least 1.
func (e *rateLimitedError) retryAfterSeconds() string { return retryAfterSeconds(e.retryAfter) }

func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// authLimiter is a token bucket per client, charged only for failed authentication
// (requests that end in 401): an authenticated request is never limited, so one address
// with many users behind it (a NAT, or the benchmark on loopback) keeps working while
// someone guessing sessions from it is slowed down. The client is the socket peer, never
// a forwarded-for header (CVE-2023-41338); IPv6 clients are keyed by their /64, which one
// host usually controls whole. Safe for concurrent use.
type authLimiter struct {
	clients *keyedrate.Limiters[netip.Addr]
	now     func() time.Time
}

// newAuthLimiter takes a validated Config's rate and burst; anything else is a wiring bug.
func newAuthLimiter(perSecond float64, burst int) *authLimiter {
	clients, err := keyedrate.New[netip.Addr](rate.Limit(perSecond), burst, maxTrackedClients)
	if err != nil {
		panic(err)
	}
	return &authLimiter{clients: clients, now: time.Now}
}

// clientKey is the bucket a peer address belongs to.
func clientKey(ip net.IP) netip.Addr {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{} // unknown peers share one bucket rather than escape the limit
	}
	addr = addr.Unmap()
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return addr
}

// fail charges one failed attempt to ip. It returns nil while the client is within its
// budget and a *rateLimitedError once the bucket is empty.
func (l *authLimiter) fail(ip net.IP) error {
	if wait, ok := l.clients.Take(clientKey(ip), l.now()); !ok {
		return &rateLimitedError{retryAfter: wait}
	}
	return nil
}

// tracked is the number of clients in memory, for tests.
func (l *authLimiter) tracked() int { return l.clients.Len() }
