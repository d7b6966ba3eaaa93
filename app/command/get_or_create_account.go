package command

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// GetOrCreateAccount returns the user's account, opening a default one first if there is
// none. Concurrent calls for one user agree on one account and exactly one reports created.
type GetOrCreateAccount struct {
	Actor user.ID
}

type GetOrCreateAccountHandler struct {
	tx    ports.Transactor
	clock ports.Clock
}

func NewGetOrCreateAccountHandler(tx ports.Transactor, clock ports.Clock) GetOrCreateAccountHandler {
	if tx == nil || clock == nil {
		panic("command: GetOrCreateAccountHandler needs a transactor and a clock")
	}
	return GetOrCreateAccountHandler{tx: tx, clock: clock}
}

func (h GetOrCreateAccountHandler) Handle(ctx context.Context, cmd GetOrCreateAccount) (acc account.Account, created bool, err error) {
	name, err := account.ParseName(account.DefaultName)
	if err != nil {
		return account.Account{}, false, fmt.Errorf("get or create account: %w", err)
	}
	candidate, err := account.New(cmd.Actor, name, h.clock.Now())
	if err != nil {
		return account.Account{}, false, fmt.Errorf("get or create account: %w", err)
	}
	err = h.tx.EachCall(ctx, cmd.Actor, func(ctx context.Context, r ports.Repositories) error {
		acc, created, err = r.Accounts.AddIfAbsent(ctx, candidate)
		return err
	})
	if err != nil {
		return account.Account{}, false, fmt.Errorf("get or create account: %w", err)
	}
	return acc, created, nil
}
