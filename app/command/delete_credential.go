package command

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// DeleteCredential removes one of the user's credentials for good.
type DeleteCredential struct {
	Actor        user.ID
	CredentialID string
}

type DeleteCredentialHandler struct {
	tx ports.Transactor
}

func NewDeleteCredentialHandler(tx ports.Transactor) DeleteCredentialHandler {
	if tx == nil {
		panic("command: DeleteCredentialHandler needs a transactor")
	}
	return DeleteCredentialHandler{tx: tx}
}

func (h DeleteCredentialHandler) Handle(ctx context.Context, cmd DeleteCredential) error {
	id, err := domain.ParseID(cmd.CredentialID)
	if err != nil {
		return fmt.Errorf("delete credential: %w", domain.ErrNotFound)
	}
	err = h.tx.EachCall(ctx, cmd.Actor, func(ctx context.Context, r ports.Repositories) error {
		return r.Credentials.Delete(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete credential: %w", err)
	}
	return nil
}
