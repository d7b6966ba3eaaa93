package ports

import (
	"context"

	"github.com/brokerly/accounts/domain/user"
)

// Transactor runs fn in one transaction scoped to the acting user: every repository it
// hands over sees and changes only that user's rows. A nil return commits; an error (or a
// panic) rolls back and is returned.
type Transactor interface {
	Within(ctx context.Context, actor user.ID, fn func(ctx context.Context, repos Repositories) error) error
	// Read runs fn, which only reads, as actor. Each read sees only the actor's rows, but
	// two reads need not see one snapshot, and any attempt to write fails. Adapters can
	// answer a one-read fn in a single round trip, which is why the use cases say so.
	Read(ctx context.Context, actor user.ID, fn func(ctx context.Context, repos Repositories) error) error
	// EachCall runs fn as actor with every repository call a whole transaction of its own:
	// for a fn that makes one call, or calls that need no common transaction. Adapters can
	// answer each call in a single round trip.
	EachCall(ctx context.Context, actor user.ID, fn func(ctx context.Context, repos Repositories) error) error
}

// Repositories are bound to one transaction and one user; they must not escape fn.
type Repositories struct {
	Accounts    AccountRepository
	Credentials CredentialRepository
}
