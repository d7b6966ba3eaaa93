package query

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// ListCredentials returns the credentials under one account, newest first. Another
// user's account simply has none that the caller can see.
type ListCredentials struct {
	Session   user.Session
	AccountID string
}

type ListCredentialsHandler struct {
	credentials ports.CredentialRepository
}

func NewListCredentialsHandler(credentials ports.CredentialRepository) ListCredentialsHandler {
	if credentials == nil {
		panic("query: ListCredentialsHandler needs a credential repository")
	}
	return ListCredentialsHandler{credentials: credentials}
}

func (h ListCredentialsHandler) Handle(ctx context.Context, q ListCredentials) ([]credential.Credential, error) {
	accountID, err := domain.ParseID(q.AccountID)
	if err != nil {
		return nil, domain.Invalid("account_id", "must be a UUID")
	}
	creds, err := h.credentials.List(ctx, q.Session, accountID)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return creds, nil
}
