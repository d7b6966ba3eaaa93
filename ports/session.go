package ports

import (
	"context"

	"github.com/brokerly/accounts/domain/user"
)

// SessionProof is what a client presented to prove its session, exactly as received:
// at most one of the two is used, the bearer token first.
type SessionProof struct {
	Cookie string // the session cookie's value, still URL-encoded
	Bearer string // the value after "Bearer " in the Authorization header
}

// SessionVerifier turns a presented session into the user it belongs to, or fails with
// ErrUnauthenticated (whatever the reason) or ErrUnavailable.
type SessionVerifier interface {
	Verify(ctx context.Context, proof SessionProof) (user.ID, error)
}
