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
	Actor     user.ID
	AccountID string
}

type ListCredentialsHandler struct {
	tx ports.Transactor
}

func NewListCredentialsHandler(tx ports.Transactor) ListCredentialsHandler {
	if tx == nil {
		panic("query: ListCredentialsHandler needs a transactor")
	}
	return ListCredentialsHandler{tx: tx}
}

func (h ListCredentialsHandler) Handle(ctx context.Context, q ListCredentials) ([]credential.Credential, error) {
	accountID, err := domain.ParseID(q.AccountID)
	if err != nil {
		return nil, domain.Invalid("account_id", "must be a UUID")
	}
	var creds []credential.Credential
	err = h.tx.Read(ctx, q.Actor, func(ctx context.Context, r ports.Repositories) error {
		creds, err = r.Credentials.List(ctx, accountID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return creds, nil
}
