package httpadapter

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults for the failed-authentication limit (a zero Config field).
const (
	DefaultAuthFailureRate  = 20.0 // failed attempts per second a client IP earns back
	DefaultAuthFailureBurst = 100  // failed attempts a client IP may make at once
	// maxTrackedClients bounds the limiter's memory: beyond it, idle buckets are dropped
	// first and then arbitrary ones (a dropped client simply starts again with a full bucket).
	maxTrackedClients = 10_000
	// sweepEvery is how often buckets that have filled up again are forgotten.
	sweepEvery = time.Minute
)

// errRateLimited is a client that failed authentication too often: 429 with Retry-After.
var errRateLimited = errors.New("too many failed authentication attempts")

// rateLimitedError carries the Retry-After of one refusal.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string { return errRateLimited.Error() }
func (e *rateLimitedError) Unwrap() error { return errRateLimited }

// retryAfterSeconds is the Retry-After header value: whole seconds, at least 1.
func (e *rateLimitedError) retryAfterSeconds() string {
	return strconv.Itoa(max(1, int(math.Ceil(e.retryAfter.Seconds()))))
}

// authLimiter is a token bucket per client, charged only for failed authentication
// (requests that end in 401): an authenticated request is never limited, so one address
// with many users behind it (a NAT, or the benchmark on loopback) keeps working while
// someone guessing sessions from it is slowed down. The client is the socket peer, never
// a forwarded-for header (CVE-2023-41338); IPv6 clients are keyed by their /64, which one
// host usually controls whole. Safe for concurrent use.
type authLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu        sync.Mutex
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newAuthLimiter(rate float64, burst int) *authLimiter {
	return &authLimiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[netip.Addr]*bucket{}}
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
	key := clientKey(ip)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxTrackedClients {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return nil
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return &rateLimitedError{retryAfter: wait}
}

// full reports whether b has refilled completely by now: it is then no different from a
// client never seen, and can be forgotten.
func (l *authLimiter) full(b *bucket, now time.Time) bool {
	return b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst
}

func (l *authLimiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if l.full(b, now) {
			delete(l.buckets, k)
		}
	}
}

// evict makes room for one more client: idle buckets go first; if every tracked client is
// still limited, an arbitrary one goes (map order is random), so memory stays bounded.
func (l *authLimiter) evict(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if l.full(b, now) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxTrackedClients {
			return
		}
		delete(l.buckets, k)
	}
}

// tracked is the number of clients in memory, for tests.
func (l *authLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
