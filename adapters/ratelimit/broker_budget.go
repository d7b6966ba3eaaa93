// Package ratelimit rations broker calls per user (ports.BrokerBudget) with a token bucket
// per user from golang.org/x/time/rate, for a bounded number of users.
package ratelimit

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/internal/keyedrate"
	"github.com/brokerly/accounts/ports"
)

// Defaults for a zero Config field. Alpaca allows 200 requests a minute per account, and
// a user's own trading spends that same allowance: a third of it is plenty for people
// clicking validate and refreshing their account, and leaves the rest to their trading.
const (
	DefaultCallsPerMinute = 60
	DefaultBurst          = 10
	// DefaultMaxUsers bounds memory: past it, users whose budget is full again are dropped
	// first, then the least recently seen (a dropped user starts again with a full budget).
	DefaultMaxUsers = 10_000
)

// Config is the budget every user gets.
type Config struct {
	CallsPerMinute int // calls a user earns back per minute
	Burst          int // calls a user may make at once
	MaxUsers       int // users tracked at once
}

// BrokerBudget is a token bucket of broker calls per user. Safe for concurrent use.
type BrokerBudget struct {
	users *keyedrate.Limiters[user.ID]
	clock ports.Clock
}

var _ ports.BrokerBudget = (*BrokerBudget)(nil)

// NewBrokerBudget takes the defaults for zero fields; a nil clock is the wall clock.
func NewBrokerBudget(cfg Config, clock ports.Clock) (*BrokerBudget, error) {
	if cfg.CallsPerMinute < 0 || cfg.Burst < 0 || cfg.MaxUsers < 0 {
		return nil, fmt.Errorf("ratelimit: calls per minute, burst and max users must not be negative")
	}
	if cfg.CallsPerMinute == 0 {
		cfg.CallsPerMinute = DefaultCallsPerMinute
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.MaxUsers == 0 {
		cfg.MaxUsers = DefaultMaxUsers
	}
	if clock == nil {
		clock = ports.SystemClock{}
	}
	users, err := keyedrate.New[user.ID](rate.Limit(float64(cfg.CallsPerMinute)/60), cfg.Burst, cfg.MaxUsers)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	return &BrokerBudget{users: users, clock: clock}, nil
}

func (b *BrokerBudget) Spend(u user.ID) (retryAfter time.Duration, ok bool) {
	return b.users.Take(u, b.clock.Now())
}

// tracked is the number of users in memory, for tests.
func (b *BrokerBudget) tracked() int { return b.users.Len() }
