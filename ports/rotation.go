package ports

import (
	"context"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// SealedPair is a credential's sealed values with what they are bound to; it is all key
// rotation needs, and no more.
type SealedPair struct {
	CredentialID domain.ID
	Owner        user.ID
	APIKey       credential.Sealed
	SecretKey    credential.Sealed
}

// RotationStore reaches every user's sealed values, for key rotation only. It is the one
// port that is not scoped to a user, and the adapter grants it nothing but these columns.
type RotationStore interface {
	// Stale returns up to limit pairs with a value not sealed under primaryKeyID, in id
	// order after the given id (zero: from the start).
	Stale(ctx context.Context, primaryKeyID string, after domain.ID, limit int) ([]SealedPair, error)
	// CountStale counts the credentials with a value not sealed under primaryKeyID: what a
	// rotation to that key has left to do.
	CountStale(ctx context.Context, primaryKeyID string) (int, error)
	// SealedByKey counts the stored values sealed under each key id, across all users;
	// each credential holds two, its API key and its secret. Ids that seal nothing are
	// absent.
	SealedByKey(ctx context.Context) (map[string]int, error)
	// Reseal replaces old with resealed if the row still holds old, records a "rotated"
	// event with it (the request id of ctx names the run), and reports whether it did; a
	// concurrent update wins, and its values are already under the primary key.
	Reseal(ctx context.Context, old, resealed SealedPair) (bool, error)
	// OpenFailed records an "open_failed" event for a pair that did not open.
	OpenFailed(ctx context.Context, p SealedPair) error
}
