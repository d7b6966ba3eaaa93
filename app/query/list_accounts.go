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
	Actor user.ID
}

type ListAccountsHandler struct {
	tx ports.Transactor
}

func NewListAccountsHandler(tx ports.Transactor) ListAccountsHandler {
	if tx == nil {
		panic("query: ListAccountsHandler needs a transactor")
	}
	return ListAccountsHandler{tx: tx}
}

func (h ListAccountsHandler) Handle(ctx context.Context, q ListAccounts) ([]account.Account, error) {
	var accounts []account.Account
	err := h.tx.Read(ctx, q.Actor, func(ctx context.Context, r ports.Repositories) error {
		var err error
		accounts, err = r.Accounts.List(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return accounts, nil
}
