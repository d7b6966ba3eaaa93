package ports

import (
	"context"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
)

// CredentialRepository stores the acting user's credentials. A credential (or account)
// the user may not see is domain.ErrNotFound, exactly like one that does not exist.
type CredentialRepository interface {
	// List returns the credentials under one of the user's accounts, newest first.
	List(ctx context.Context, accountID domain.ID) ([]credential.Credential, error)
	Get(ctx context.Context, id domain.ID) (credential.Credential, error)
	// Add stores a new credential; its account must be the user's (domain.ErrNotFound otherwise).
	Add(ctx context.Context, c credential.Credential) error
	// Update loads the credential, lets change modify it, and stores the result, all in
	// the caller's transaction with the row locked.
	Update(ctx context.Context, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error)
	Delete(ctx context.Context, id domain.ID) error
}
