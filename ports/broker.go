package ports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brokerly/accounts/domain/credential"
)

// BrokerAccount is the broker's view of the trading account. Money stays a decimal string
// exactly as the broker sent it: no float ever touches it.
type BrokerAccount struct {
	Status           string
	Currency         string
	Cash             string
	Equity           string
	BuyingPower      string
	TradingBlocked   bool
	AccountBlocked   bool
	PatternDayTrader bool
	DaytradeCount    int
}

// Broker talks to the broker with a user's key pair. Implementations hold the plaintext
// only for the duration of the call.
type Broker interface {
	Account(ctx context.Context, env credential.Environment, apiKey, secretKey credential.Plaintext) (BrokerAccount, error)
}

var (
	// ErrBrokerRejected means the broker refused the key pair (HTTP 401/403).
	ErrBrokerRejected = errors.New("broker rejected the credentials")
	// ErrBrokerFailed means the broker could not be asked: a timeout, a network error or
	// an unexpected answer.
	ErrBrokerFailed = errors.New("broker request failed")
	// ErrBrokerRateLimited means the broker refused to answer for now (its own rate limit);
	// a *BrokerBusyError says until when.
	ErrBrokerRateLimited = errors.New("broker rate limit reached")
)

// BrokerBusyError is ErrBrokerRateLimited with the broker's word on when to try again.
type BrokerBusyError struct {
	RetryAfter time.Duration
}

func (e *BrokerBusyError) Error() string {
	return fmt.Sprintf("%s; retry after %s", ErrBrokerRateLimited, e.RetryAfter)
}

func (e *BrokerBusyError) Unwrap() error { return ErrBrokerRateLimited }
