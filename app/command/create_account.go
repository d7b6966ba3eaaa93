// Package command holds the use cases that change state, one per file.
package command

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// CreateAccount opens the user's one account.
type CreateAccount struct {
	Session user.Session
	Name    string // as typed by the user; validated here
}

type CreateAccountHandler struct {
	accounts ports.AccountRepository
	clock    ports.Clock
}

func NewCreateAccountHandler(accounts ports.AccountRepository, clock ports.Clock) CreateAccountHandler {
	if accounts == nil || clock == nil {
		panic("command: CreateAccountHandler needs an account repository and a clock")
	}
	return CreateAccountHandler{accounts: accounts, clock: clock}
}

// Handle fails with a *domain.ValidationError for a bad name and domain.ErrAlreadyExists
// when the user has an account already.
func (h CreateAccountHandler) Handle(ctx context.Context, cmd CreateAccount) (account.Account, error) {
	name, err := account.ParseName(cmd.Name)
	if err != nil {
		return account.Account{}, err
	}
	now := h.clock.Now()
	acc, err := h.accounts.Add(ctx, cmd.Session, func(owner user.ID) (account.Account, error) {
		return account.New(owner, name, now)
	})
	if err != nil {
		return account.Account{}, fmt.Errorf("create account: %w", err)
	}
	return acc, nil
}
