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
	Session user.Session
}

type GetOrCreateAccountHandler struct {
	accounts ports.AccountRepository
	clock    ports.Clock
}

func NewGetOrCreateAccountHandler(accounts ports.AccountRepository, clock ports.Clock) GetOrCreateAccountHandler {
	if accounts == nil || clock == nil {
		panic("command: GetOrCreateAccountHandler needs an account repository and a clock")
	}
	return GetOrCreateAccountHandler{accounts: accounts, clock: clock}
}

func (h GetOrCreateAccountHandler) Handle(ctx context.Context, cmd GetOrCreateAccount) (account.Account, bool, error) {
	name, err := account.ParseName(account.DefaultName)
	if err != nil {
		return account.Account{}, false, fmt.Errorf("get or create account: %w", err)
	}
	now := h.clock.Now()
	acc, created, err := h.accounts.AddIfAbsent(ctx, cmd.Session, func(owner user.ID) (account.Account, error) {
		return account.New(owner, name, now)
	})
	if err != nil {
		return account.Account{}, false, fmt.Errorf("get or create account: %w", err)
	}
	return acc, created, nil
}
