package ports

import (
	"context"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
)

// AccountRepository stores the acting user's account. An account the user may not see is
// domain.ErrNotFound, exactly like one that does not exist.
type AccountRepository interface {
	// List returns the user's accounts, newest first.
	List(ctx context.Context) ([]account.Account, error)
	// Get returns one of the user's accounts.
	Get(ctx context.Context, id domain.ID) (account.Account, error)
	// Add stores a new account, or fails with domain.ErrAlreadyExists when the user has one.
	Add(ctx context.Context, a account.Account) error
	// AddIfAbsent stores a unless the user already has an account, and returns the account
	// that is stored afterwards and whether it is a.
	AddIfAbsent(ctx context.Context, a account.Account) (stored account.Account, created bool, err error)
}
