package keyedrate

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

var t0 = time.Unix(1_700_000_000, 0)

func newLimiters(t *testing.T, limit rate.Limit, burst, maxKeys int) *Limiters[string] {
	t.Helper()
	l, err := New[string](limit, burst, maxKeys)
	require.NoError(t, err)
	return l
}

func TestTake_BurstThenRefillAtTheRate(t *testing.T) {
	l := newLimiters(t, 4, 3, 10)
	for range 3 {
		_, ok := l.Take("a", t0)
		require.True(t, ok, "the burst is available at once")
	}
	wait, ok := l.Take("a", t0)
	require.False(t, ok)
	assert.Equal(t, 250*time.Millisecond, wait, "one token every 1/4 s")
	wait, ok = l.Take("a", t0.Add(100*time.Millisecond))
	require.False(t, ok, "a refused take spends nothing, and a part token is not a token")
	assert.Equal(t, 150*time.Millisecond, wait)

	_, ok = l.Take("a", t0.Add(250*time.Millisecond))
	require.True(t, ok, "one token back after 1/limit")
	_, ok = l.Take("a", t0.Add(250*time.Millisecond))
	require.False(t, ok)

	_, ok = l.Take("b", t0)
	require.True(t, ok, "every key has its own bucket")

	for range 3 {
		_, ok = l.Take("a", t0.Add(time.Hour))
		require.True(t, ok, "a bucket refills up to its burst")
	}
	_, ok = l.Take("a", t0.Add(time.Hour))
	require.False(t, ok, "and no further")
}

func TestNew_RefusesLimitsThatLimitNothing(t *testing.T) {
	for _, c := range []struct {
		limit          rate.Limit
		burst, maxKeys int
	}{{0, 1, 1}, {-1, 1, 1}, {rate.Inf, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		_, err := New[string](c.limit, c.burst, c.maxKeys)
		assert.Error(t, err, "%+v", c)
	}
}

func TestTake_KeysWhoseBucketsRefilledAreForgotten(t *testing.T) {
	l := newLimiters(t, 1, 2, 10)
	l.Take("idle", t0)
	l.Take("busy", t0.Add(SweepEvery-time.Second))
	l.Take("busy", t0.Add(SweepEvery-time.Second))
	require.Equal(t, 2, l.Len())

	_, ok := l.Take("new", t0.Add(SweepEvery))
	require.True(t, ok)
	assert.Equal(t, 2, l.Len(), "the idle key is gone, the one still refilling is kept")
	_, ok = l.Take("busy", t0.Add(SweepEvery))
	assert.True(t, ok, "one second gave busy one token back")
	_, ok = l.Take("busy", t0.Add(SweepEvery))
	assert.False(t, ok, "busy's bucket was kept, not reset")
}

// However many keys arrive, at most maxKeys are kept; at the bound, idle keys go before
// limited ones, and the least recently used limited key goes before the others.
func TestTake_MemoryIsBoundedIdleKeysFirst(t *testing.T) {
	const maxKeys = 4
	l := newLimiters(t, 1, 1, maxKeys)
	l.Take("idle", t0)
	now := t0.Add(2 * time.Second) // idle's bucket is full again
	for _, k := range []string{"old", "mid", "new"} {
		l.Take(k, now)
	}
	l.Take("new2", now)
	require.Equal(t, maxKeys, l.Len())
	_, ok := l.Take("old", now)
	require.False(t, ok, "the idle key made room, not a limited one")

	for i := range 1000 {
		l.Take(strconv.Itoa(i), now)
		require.LessOrEqual(t, l.Len(), maxKeys)
	}
	_, ok = l.Take("999", now)
	require.False(t, ok, "the most recent key is still limited")
}

// Past the bound, each new key must not rescan every key: the full scan runs at most
// once per boundSweepGap, in between the least recently used key makes room.
func TestTake_AtTheBoundNewKeysEvictTheLeastRecentlyUsed(t *testing.T) {
	l := newLimiters(t, 1, 1, 3)
	for _, k := range []string{"a", "b", "c", "d"} {
		l.Take(k, t0)
	}
	l.Take("b", t0) // b is now more recent than c
	l.Take("e", t0)
	_, okB := l.Take("b", t0)
	_, okC := l.Take("c", t0)
	assert.False(t, okB, "b was used recently and is kept")
	assert.True(t, okC, "c was the least recently used: it was dropped and starts full")
}

func BenchmarkTake_NewKeysAtTheBound(b *testing.B) {
	l, err := New[int](1, 1, 10_000)
	require.NoError(b, err)
	for i := range 10_000 {
		l.Take(i, t0)
	}
	for i := 0; b.Loop(); i++ {
		l.Take(10_000+i, t0)
	}
}

// Concurrent takes on one key never grant more than its burst.
func TestTake_ConcurrentTakesShareOneBucket(t *testing.T) {
	l := newLimiters(t, 1, 25, 10)
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, ok := l.Take("a", t0); ok {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 25, granted.Load())
}
