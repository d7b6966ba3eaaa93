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
	Session      user.Session
	CredentialID string
}

type DeleteCredentialHandler struct {
	credentials ports.CredentialRepository
}

func NewDeleteCredentialHandler(credentials ports.CredentialRepository) DeleteCredentialHandler {
	if credentials == nil {
		panic("command: DeleteCredentialHandler needs a credential repository")
	}
	return DeleteCredentialHandler{credentials: credentials}
}

func (h DeleteCredentialHandler) Handle(ctx context.Context, cmd DeleteCredential) error {
	id, err := domain.ParseID(cmd.CredentialID)
	if err != nil {
		return fmt.Errorf("delete credential: %w", domain.ErrNotFound)
	}
	if err := h.credentials.Delete(ctx, cmd.Session, id); err != nil {
		return fmt.Errorf("delete credential: %w", err)
	}
	return nil
}
