// Package keyedrate keeps one token bucket (golang.org/x/time/rate) per key, for a bounded
// number of keys, so that a limit per client or per user cannot grow memory without end.
package keyedrate

import (
	"container/list"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SweepEvery is how often keys whose buckets have filled up again are forgotten: a full
// bucket is no different from a key never seen.
const SweepEvery = time.Minute

// boundSweepGap is how often reaching the bound may scan every key for full buckets; in
// between, the least recently used key makes room, so a flood of new keys costs O(1) each.
const boundSweepGap = time.Second

// Limiters is a token bucket per key. At most maxKeys are kept: idle keys (full buckets)
// are dropped first, then the least recently used. A dropped key starts again with a full
// bucket. Safe for concurrent use.
type Limiters[K comparable] struct {
	limit   rate.Limit
	burst   int
	maxKeys int

	mu             sync.Mutex
	byKey          map[K]*list.Element // values are *entry[K]
	recency        list.List           // most recently used first
	lastSweep      time.Time
	lastBoundSweep time.Time
}

type entry[K comparable] struct {
	key K
	lim *rate.Limiter
}

// New makes buckets of burst tokens refilled at limit tokens per second, for at most
// maxKeys keys at once.
func New[K comparable](limit rate.Limit, burst, maxKeys int) (*Limiters[K], error) {
	if !(limit > 0) || limit == rate.Inf || burst < 1 || maxKeys < 1 {
		return nil, fmt.Errorf("keyedrate: need a finite positive limit, a burst and a key bound of at least 1 (got %v, %d, %d)", limit, burst, maxKeys)
	}
	return &Limiters[K]{limit: limit, burst: burst, maxKeys: maxKeys, byKey: map[K]*list.Element{}}, nil
}

// Take spends one token of key's bucket at now. When the bucket is empty it spends nothing
// and reports how long until it holds a token again.
func (l *Limiters[K]) Take(key K, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= SweepEvery {
		l.sweep(now)
	}
	lim := l.limiterFor(key, now)
	if lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	return time.Duration(missing / float64(l.limit) * float64(time.Second)), false
}

func (l *Limiters[K]) limiterFor(key K, now time.Time) *rate.Limiter {
	if el, ok := l.byKey[key]; ok {
		l.recency.MoveToFront(el)
		return el.Value.(*entry[K]).lim
	}
	if len(l.byKey) >= l.maxKeys {
		l.makeRoom(now)
	}
	e := &entry[K]{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
	l.byKey[key] = l.recency.PushFront(e)
	return e.lim
}

// makeRoom drops keys until one more fits: the full buckets first, then the least
// recently used keys.
func (l *Limiters[K]) makeRoom(now time.Time) {
	if now.Sub(l.lastBoundSweep) >= boundSweepGap {
		l.lastBoundSweep = now
		l.sweep(now)
	}
	for len(l.byKey) >= l.maxKeys {
		l.remove(l.recency.Back())
	}
}

func (l *Limiters[K]) sweep(now time.Time) {
	l.lastSweep = now
	for el := l.recency.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*entry[K]).lim.TokensAt(now) >= float64(l.burst) {
			l.remove(el)
		}
		el = next
	}
}

func (l *Limiters[K]) remove(el *list.Element) {
	delete(l.byKey, l.recency.Remove(el).(*entry[K]).key)
}

// Len is the number of keys in memory.
func (l *Limiters[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byKey)
}

// Limit and Burst are the buckets' refill rate (tokens per second) and size.
func (l *Limiters[K]) Limit() rate.Limit { return l.limit }
func (l *Limiters[K]) Burst() int        { return l.burst }
