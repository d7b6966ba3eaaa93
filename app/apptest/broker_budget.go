package apptest

import (
	"sync"
	"time"

	"github.com/brokerly/accounts/domain/user"
)

// BrokerBudget grants every user the same number of broker calls, then refuses them with
// a fixed retry-after. It counts what each user spent.
type BrokerBudget struct {
	mu         sync.Mutex
	allowance  int
	retryAfter time.Duration
	spent      map[user.ID]int
	refused    map[user.ID]int
}

func NewBrokerBudget(allowance int, retryAfter time.Duration) *BrokerBudget {
	return &BrokerBudget{allowance: allowance, retryAfter: retryAfter, spent: map[user.ID]int{}, refused: map[user.ID]int{}}
}

// Limit changes every user's allowance and retry-after; calls already spent still count.
func (b *BrokerBudget) Limit(allowance int, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowance, b.retryAfter = allowance, retryAfter
}

func (b *BrokerBudget) Spend(u user.ID) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent[u] >= b.allowance {
		b.refused[u]++
		return b.retryAfter, false
	}
	b.spent[u]++
	return 0, true
}

// Spent is how many calls u was granted, and Refused how many were refused.
func (b *BrokerBudget) Spent(u user.ID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent[u]
}

func (b *BrokerBudget) Refused(u user.ID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused[u]
}
