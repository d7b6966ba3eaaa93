package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/domain/user"
)

func mustUser(t *testing.T, s string) user.ID {
	t.Helper()
	id, err := user.ParseID(s)
	require.NoError(t, err)
	return id
}

func newBudget(t *testing.T, cfg Config) (*BrokerBudget, *apptest.Clock) {
	t.Helper()
	clock := apptest.NewClock(time.Unix(1_700_000_000, 0))
	b, err := NewBrokerBudget(cfg, clock)
	require.NoError(t, err)
	return b, clock
}

func TestBrokerBudget_BurstThenRefillPerMinute(t *testing.T) {
	b, clock := newBudget(t, Config{CallsPerMinute: 30, Burst: 3})
	alice, bob := mustUser(t, "alice"), mustUser(t, "bob")
	for range 3 {
		_, ok := b.Spend(alice)
		require.True(t, ok, "the burst is available at once")
	}
	wait, ok := b.Spend(alice)
	require.False(t, ok)
	assert.Equal(t, 2*time.Second, wait, "30 a minute is one every 2 s")

	_, ok = b.Spend(bob)
	assert.True(t, ok, "another user has a budget of their own")

	clock.Advance(time.Second)
	wait, ok = b.Spend(alice)
	require.False(t, ok, "half a call is no call")
	assert.Equal(t, time.Second, wait)
	clock.Advance(time.Second)
	_, ok = b.Spend(alice)
	require.True(t, ok, "one call back after 2 s")
	_, ok = b.Spend(alice)
	require.False(t, ok)

	clock.Advance(time.Hour)
	for range 3 {
		_, ok = b.Spend(alice)
		require.True(t, ok, "an idle user is back to the full burst")
	}
	_, ok = b.Spend(alice)
	require.False(t, ok, "and no more")
}

func TestBrokerBudget_Defaults(t *testing.T) {
	b, clock := newBudget(t, Config{})
	alice := mustUser(t, "alice")
	for range DefaultBurst {
		_, ok := b.Spend(alice)
		require.True(t, ok)
	}
	wait, ok := b.Spend(alice)
	require.False(t, ok)
	assert.Equal(t, time.Minute/DefaultCallsPerMinute, wait)
	assert.LessOrEqual(t, DefaultCallsPerMinute, 200, "never more than Alpaca allows one account")

	clock.Advance(time.Minute)
	spent := 0
	for {
		if _, ok := b.Spend(alice); !ok {
			break
		}
		spent++
	}
	assert.Equal(t, DefaultBurst, spent, "a minute refills at most the burst")
}

func TestBrokerBudget_RefusesNegativeSettings(t *testing.T) {
	for _, cfg := range []Config{{CallsPerMinute: -1}, {Burst: -1}, {MaxUsers: -1}} {
		_, err := NewBrokerBudget(cfg, nil)
		assert.Error(t, err, "%+v", cfg)
	}
}

// However many users call, at most MaxUsers budgets are kept; users whose budget is full
// again make room first, so a user past their budget is not forgotten for an idle one.
func TestBrokerBudget_MemoryIsBounded(t *testing.T) {
	const maxUsers = 100
	b, clock := newBudget(t, Config{CallsPerMinute: 60, Burst: 1, MaxUsers: maxUsers})
	spendAs := func(name string) bool {
		_, ok := b.Spend(mustUser(t, name))
		return ok
	}
	for i := range maxUsers - 1 {
		spendAs(fmt.Sprintf("idle-%d", i))
	}
	clock.Advance(2 * time.Second) // the idle users' budgets are full again
	require.True(t, spendAs("limited"))
	require.Equal(t, maxUsers, b.tracked())

	for i := range maxUsers - 1 {
		require.True(t, spendAs(fmt.Sprintf("new-%d", i)))
		require.LessOrEqual(t, b.tracked(), maxUsers)
	}
	require.False(t, spendAs("limited"), "the idle users made room, not the limited one")

	for i := range 10 * maxUsers {
		spendAs(fmt.Sprintf("flood-%d", i))
		require.LessOrEqual(t, b.tracked(), maxUsers)
	}
}

func TestBrokerBudget_WallClockByDefault(t *testing.T) {
	b, err := NewBrokerBudget(Config{CallsPerMinute: 1, Burst: 1}, nil)
	require.NoError(t, err)
	alice := mustUser(t, "alice")
	_, ok := b.Spend(alice)
	require.True(t, ok)
	wait, ok := b.Spend(alice)
	require.False(t, ok)
	assert.InDelta(t, time.Minute, wait, float64(time.Second))
}
