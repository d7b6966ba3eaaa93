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
	Actor user.ID
	Name  string // as typed by the user; validated here
}

type CreateAccountHandler struct {
	tx    ports.Transactor
	clock ports.Clock
}

func NewCreateAccountHandler(tx ports.Transactor, clock ports.Clock) CreateAccountHandler {
	if tx == nil || clock == nil {
		panic("command: CreateAccountHandler needs a transactor and a clock")
	}
	return CreateAccountHandler{tx: tx, clock: clock}
}

// Handle fails with a *domain.ValidationError for a bad name and domain.ErrAlreadyExists
// when the user has an account already.
func (h CreateAccountHandler) Handle(ctx context.Context, cmd CreateAccount) (account.Account, error) {
	name, err := account.ParseName(cmd.Name)
	if err != nil {
		return account.Account{}, err
	}
	acc, err := account.New(cmd.Actor, name, h.clock.Now())
	if err != nil {
		return account.Account{}, fmt.Errorf("create account: %w", err)
	}
	err = h.tx.EachCall(ctx, cmd.Actor, func(ctx context.Context, r ports.Repositories) error {
		return r.Accounts.Add(ctx, acc)
	})
	if err != nil {
		return account.Account{}, fmt.Errorf("create account: %w", err)
	}
	return acc, nil
}
