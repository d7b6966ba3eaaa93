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

// SessionVerifier checks a presented session's signature, in constant time and without
// asking any store, and returns the session it carries: authentic, but only the
// repository that resolves it knows whether it is still valid. Every refusal is
// ErrUnauthenticated, whatever the reason.
type SessionVerifier interface {
	Verify(proof SessionProof) (user.Session, error)
}

// Sessions says whose a session is. Every repository call resolves its session itself, in
// its own first statement; this is for a request that has nothing else to ask the store.
type Sessions interface {
	// Resolve returns the user of a live session, or fails with ErrUnauthenticated.
	Resolve(ctx context.Context, s user.Session) (user.ID, error)
}
