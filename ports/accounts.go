package ports

import (
	"context"

	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
)

// OpenAccount builds the account to store for owner, the user a session resolved to.
type OpenAccount func(owner user.ID) (account.Account, error)

// AccountRepository keeps each user's broker account. An account the session's user may
// not see is domain.ErrNotFound, exactly like one that does not exist.
type AccountRepository interface {
	// List returns the user's accounts, newest first.
	List(ctx context.Context, s user.Session) ([]account.Account, error)
	// Add stores the account open builds, or fails with domain.ErrAlreadyExists when the
	// user has one.
	Add(ctx context.Context, s user.Session, open OpenAccount) (account.Account, error)
	// AddIfAbsent returns the user's account, storing the one open builds first if there is
	// none, and whether it did. Concurrent calls for one user agree on one account, and
	// exactly one of them reports created.
	AddIfAbsent(ctx context.Context, s user.Session, open OpenAccount) (stored account.Account, created bool, err error)
}
