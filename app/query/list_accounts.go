// Package query holds the use cases that only read, one per file.
package query

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// ListAccounts returns the user's accounts, newest first.
type ListAccounts struct {
	Session user.Session
}

type ListAccountsHandler struct {
	accounts ports.AccountRepository
}

func NewListAccountsHandler(accounts ports.AccountRepository) ListAccountsHandler {
	if accounts == nil {
		panic("query: ListAccountsHandler needs an account repository")
	}
	return ListAccountsHandler{accounts: accounts}
}

func (h ListAccountsHandler) Handle(ctx context.Context, q ListAccounts) ([]account.Account, error) {
	accounts, err := h.accounts.List(ctx, q.Session)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return accounts, nil
}
