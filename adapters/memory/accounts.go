package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/ports"
)

type accountRepo struct{ s *snapshot }

var _ ports.AccountRepository = accountRepo{}

func (r accountRepo) List(context.Context) ([]account.Account, error) {
	var out []account.Account
	for _, a := range r.s.accounts {
		if r.s.visible(a.Owner()) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, newestFirst)
	return out, nil
}

func (r accountRepo) Get(_ context.Context, id domain.ID) (account.Account, error) {
	a, ok := r.s.accounts[id]
	if !ok || !r.s.visible(a.Owner()) {
		return account.Account{}, fmt.Errorf("account %s: %w", id, domain.ErrNotFound)
	}
	return a, nil
}

func (r accountRepo) Add(_ context.Context, a account.Account) error {
	if !r.s.visible(a.Owner()) {
		return fmt.Errorf("memory: account for another user: %w", domain.ErrNotFound)
	}
	if _, ok := r.ownAccount(); ok {
		return fmt.Errorf("account: %w", domain.ErrAlreadyExists)
	}
	r.s.accounts[a.ID()] = a
	return nil
}

func (r accountRepo) AddIfAbsent(ctx context.Context, a account.Account) (account.Account, bool, error) {
	if existing, ok := r.ownAccount(); ok {
		return existing, false, nil
	}
	if err := r.Add(ctx, a); err != nil {
		return account.Account{}, false, err
	}
	return a, true, nil
}

func (r accountRepo) ownAccount() (account.Account, bool) {
	for _, a := range r.s.accounts {
		if a.Owner() == r.s.actor {
			return a, true
		}
	}
	return account.Account{}, false
}

func newestFirst(a, b account.Account) int {
	if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
		return c
	}
	return cmp.Compare(b.ID().String(), a.ID().String())
}
