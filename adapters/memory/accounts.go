package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

type accountRepo struct{ s *Store }

var _ ports.AccountRepository = accountRepo{}

func (r accountRepo) List(ctx context.Context, sess user.Session) ([]account.Account, error) {
	out := []account.Account{}
	err := r.s.transact(ctx, sess, func(t *txn) error {
		for _, a := range t.accounts {
			if t.visible(a.Owner()) {
				out = append(out, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, newestFirst)
	return out, nil
}

func (r accountRepo) Add(ctx context.Context, sess user.Session, open ports.OpenAccount) (account.Account, error) {
	var added account.Account
	err := r.s.transact(ctx, sess, func(t *txn) error {
		a, err := open(t.actor.User)
		if err != nil {
			return err
		}
		if err := t.addAccount(a); err != nil {
			return err
		}
		added = a
		return nil
	})
	return added, err
}

func (r accountRepo) AddIfAbsent(ctx context.Context, sess user.Session, open ports.OpenAccount) (account.Account, bool, error) {
	var stored account.Account
	var created bool
	err := r.s.transact(ctx, sess, func(t *txn) error {
		if existing, ok := t.ownAccount(); ok {
			stored = existing
			return nil
		}
		a, err := open(t.actor.User)
		if err != nil {
			return err
		}
		if err := t.addAccount(a); err != nil {
			return err
		}
		stored, created = a, true
		return nil
	})
	return stored, created, err
}

// addAccount is the schema's rules: the owner is the actor (RLS) and has no account yet
// (unique user_id).
func (t *txn) addAccount(a account.Account) error {
	if !t.visible(a.Owner()) {
		return fmt.Errorf("memory: account for another user: %w", domain.ErrNotFound)
	}
	if _, ok := t.ownAccount(); ok {
		return fmt.Errorf("account: %w", domain.ErrAlreadyExists)
	}
	if _, taken := t.accounts[a.ID()]; taken {
		return fmt.Errorf("account %s: %w", a.ID(), domain.ErrAlreadyExists)
	}
	t.accounts[a.ID()] = a
	return nil
}

func (t *txn) ownAccount() (account.Account, bool) {
	for _, a := range t.accounts {
		if a.Owner() == t.actor.User {
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
