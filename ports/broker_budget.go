package ports

import (
	"errors"
	"time"

	"github.com/brokerly/accounts/domain/user"
)

// BrokerBudget rations the broker calls made for each user, so that no one user can spend
// the service's quota with the broker, or its standing there.
type BrokerBudget interface {
	// Spend takes one broker call from the user's budget. When none is left it takes
	// nothing and says how long until one is.
	Spend(u user.ID) (retryAfter time.Duration, ok bool)
}

// ErrRateLimited means the user has spent their budget of broker calls for now; nothing
// was asked of the broker.
var ErrRateLimited = errors.New("broker call budget spent")

// RateLimitedError is ErrRateLimited with when the next call will be allowed.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return ErrRateLimited.Error() + "; retry after " + e.RetryAfter.String()
}
func (e *RateLimitedError) Unwrap() error { return ErrRateLimited }
