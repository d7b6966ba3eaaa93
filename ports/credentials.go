package ports

import (
	"context"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// NewCredential builds the credential to store for owner, the user a session resolved to:
// its secrets are sealed to that owner, so they cannot be sealed before it is known.
type NewCredential func(owner user.ID) (credential.Credential, error)

// CredentialRepository keeps each user's broker credentials. A credential (or account) the
// session's user may not see is domain.ErrNotFound, exactly like one that does not exist.
//
// Every change is recorded in the credential's audit trail (CredentialTrail) in the same
// transaction, with the request id of ctx (RequestID). An impersonated session may read
// but not change: Add, Update and Delete refuse it with user.ErrImpersonated, change
// nothing, and record the refusal (outcome credential.Refused) for a credential or account
// the user has; one they do not have is domain.ErrNotFound as always.
type CredentialRepository interface {
	// List returns a page of the credentials under one of the user's accounts, newest first
	// (another user's account, or none, simply has none), and whether more follow it.
	List(ctx context.Context, s user.Session, accountID domain.ID, page credential.Page) (creds []credential.Credential, more bool, err error)
	Get(ctx context.Context, s user.Session, id domain.ID) (credential.Credential, error)
	// Add stores the credential build makes under accountID, which must be the user's
	// (domain.ErrNotFound otherwise) and hold fewer than perAccount credentials
	// (credential.ErrLimitReached otherwise), which concurrent calls cannot overrun.
	Add(ctx context.Context, s user.Session, accountID domain.ID, perAccount int, build NewCredential) (credential.Credential, error)
	// Update loads the credential, lets change modify it, and stores the result; concurrent
	// updates of one credential apply one after the other, never over each other. When
	// change fails nothing is stored.
	Update(ctx context.Context, s user.Session, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error)
	Delete(ctx context.Context, s user.Session, id domain.ID) error
}
