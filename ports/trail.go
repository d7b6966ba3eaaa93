package ports

import (
	"context"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// CredentialTrail is the audit trail of the user's credentials. The repository records
// every change (stored, updated, deleted, and their refusals) in the change's own
// transaction; the trail takes what happens outside the store: broker calls and sealed
// values that fail to open. Events are append-only and outlive their credential.
type CredentialTrail interface {
	// Record appends one event about c, a credential of the session's user, with the
	// request id of ctx (RequestID) and the impersonating admin, if any, as the store
	// resolves the session.
	Record(ctx context.Context, s user.Session, c credential.Credential, action credential.Action, outcome credential.Outcome) error
	// Events returns a page of one credential's events, newest first, and whether more
	// follow. A credential the user never had, or another user's, is domain.ErrNotFound;
	// one they deleted still has its events.
	Events(ctx context.Context, s user.Session, credentialID domain.ID, page credential.EventPage) (events []credential.Event, more bool, err error)
}
