package memory

import (
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

func (r credentialRepo) List(ctx context.Context, sess user.Session, accountID domain.ID, page credential.Page) ([]credential.Credential, bool, error) {
	var all []credential.Credential
	err := r.s.transact(ctx, sess, func(t *txn) error {
		all = t.credentialsOf(accountID)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(all, newestCredentialFirst)
	out := []credential.Credential{}
	for _, c := range all {
		if !page.After.IsZero() && !olderThan(c, page.After) {
			continue
		}
		if len(out) == page.Size {
			return out, true, nil
		}
		out = append(out, c)
	}
	return out, false, nil
}

func (t *txn) credentialsOf(accountID domain.ID) []credential.Credential {
	var out []credential.Credential
	for _, c := range t.credentials {
		if c.AccountID() == accountID && t.visible(c.Owner()) {
			out = append(out, c)
		}
	}
	return out
}

func newestCredentialFirst(a, b credential.Credential) int {
	if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
		return c
	}
	return b.ID().Compare(a.ID())
}

// olderThan reports whether c comes after the cursor in "newest first" order.
func olderThan(c credential.Credential, after credential.Cursor) bool {
	if d := c.CreatedAt().Compare(after.CreatedAt()); d != 0 {
		return d < 0
	}
	return c.ID().Compare(after.ID()) < 0
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
func (r credentialRepo) Add(ctx context.Context, sess user.Session, accountID domain.ID, perAccount int, build ports.NewCredential) (credential.Credential, error) {
	var added credential.Credential
	err := r.s.transact(ctx, sess, func(t *txn) error {
		acc, ok := t.accounts[accountID]
		mine := ok && t.visible(acc.Owner())
		if err := t.actor.MayTouchSecrets(); err != nil {
			if !mine {
				return fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
			}
			return t.refuse(domain.ID{}, accountID, credential.Stored, err)
		}
		c, err := build(t.actor.User)
		if err != nil {
			return err
		}
		if !mine || c.AccountID() != accountID || acc.Owner() != c.Owner() {
			return fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
		}
		if len(t.credentialsOf(accountID)) >= perAccount {
			return fmt.Errorf("account %s: %w", accountID, credential.ErrLimitReached)
		}
		if _, exists := t.credentials[c.ID()]; exists {
			return fmt.Errorf("credential %s: %w", c.ID(), domain.ErrAlreadyExists)
		}
		t.credentials[c.ID()] = c
		t.record(c.ID(), accountID, credential.Stored, credential.OK)
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
		if err := t.actor.MayTouchSecrets(); err != nil {
			return t.refuse(id, c.AccountID(), credential.Updated, err)
		}
		if err := change(&c); err != nil {
			return err
		}
		t.credentials[id] = c
		t.record(id, c.AccountID(), credential.Updated, credential.OK)
		updated = c
		return nil
	})
	return updated, err
}

func (r credentialRepo) Delete(ctx context.Context, sess user.Session, id domain.ID) error {
	return r.s.transact(ctx, sess, func(t *txn) error {
		c, err := t.credential(id)
		if err != nil {
			return err
		}
		if err := t.actor.MayTouchSecrets(); err != nil {
			return t.refuse(id, c.AccountID(), credential.Deleted, err)
		}
		delete(t.credentials, id)
		t.record(id, c.AccountID(), credential.Deleted, credential.OK)
		return nil
	})
}

// refuse records a refused change and keeps only that record.
func (t *txn) refuse(credentialID, accountID domain.ID, action credential.Action, why error) error {
	t.record(credentialID, accountID, action, credential.Refused)
	t.keep = true
	return why
}

func (t *txn) credential(id domain.ID) (credential.Credential, error) {
	c, ok := t.credentials[id]
	if !ok || !t.visible(c.Owner()) {
		return credential.Credential{}, fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	return c, nil
}
