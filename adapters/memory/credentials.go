package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

type credentialRepo struct{ s *Store }

var _ ports.CredentialRepository = credentialRepo{}

func (r credentialRepo) List(ctx context.Context, sess user.Session, accountID domain.ID) ([]credential.Credential, error) {
	out := []credential.Credential{}
	err := r.s.transact(ctx, sess, func(t *txn) error {
		for _, c := range t.credentials {
			if c.AccountID() == accountID && t.visible(c.Owner()) {
				out = append(out, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b credential.Credential) int {
		if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
			return c
		}
		return cmp.Compare(b.ID().String(), a.ID().String())
	})
	return out, nil
}

func (r credentialRepo) Get(ctx context.Context, sess user.Session, id domain.ID) (credential.Credential, error) {
	var found credential.Credential
	err := r.s.transact(ctx, sess, func(t *txn) error {
		c, err := t.credential(id)
		found = c
		return err
	})
	return found, err
}

// Add mirrors the database's composite foreign key: the account must be the owner's.
func (r credentialRepo) Add(ctx context.Context, sess user.Session, build ports.NewCredential) (credential.Credential, error) {
	var added credential.Credential
	err := r.s.transact(ctx, sess, func(t *txn) error {
		c, err := build(t.actor)
		if err != nil {
			return err
		}
		acc, ok := t.accounts[c.AccountID()]
		if !ok || !t.visible(c.Owner()) || acc.Owner() != c.Owner() {
			return fmt.Errorf("account %s: %w", c.AccountID(), domain.ErrNotFound)
		}
		if _, exists := t.credentials[c.ID()]; exists {
			return fmt.Errorf("credential %s: %w", c.ID(), domain.ErrAlreadyExists)
		}
		t.credentials[c.ID()] = c
		added = c
		return nil
	})
	return added, err
}

func (r credentialRepo) Update(ctx context.Context, sess user.Session, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error) {
	var updated credential.Credential
	err := r.s.transact(ctx, sess, func(t *txn) error {
		c, err := t.credential(id)
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			return err
		}
		t.credentials[id] = c
		updated = c
		return nil
	})
	return updated, err
}

func (r credentialRepo) Delete(ctx context.Context, sess user.Session, id domain.ID) error {
	return r.s.transact(ctx, sess, func(t *txn) error {
		if _, err := t.credential(id); err != nil {
			return err
		}
		delete(t.credentials, id)
		return nil
	})
}

func (t *txn) credential(id domain.ID) (credential.Credential, error) {
	c, ok := t.credentials[id]
	if !ok || !t.visible(c.Owner()) {
		return credential.Credential{}, fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	return c, nil
}
