package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

type credentialRepo struct{ s *snapshot }

var _ ports.CredentialRepository = credentialRepo{}

func (r credentialRepo) List(_ context.Context, accountID domain.ID) ([]credential.Credential, error) {
	var out []credential.Credential
	for _, c := range r.s.credentials {
		if c.AccountID() == accountID && r.s.visible(c.Owner()) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b credential.Credential) int {
		if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
			return c
		}
		return cmp.Compare(b.ID().String(), a.ID().String())
	})
	return out, nil
}

func (r credentialRepo) Get(_ context.Context, id domain.ID) (credential.Credential, error) {
	c, ok := r.s.credentials[id]
	if !ok || !r.s.visible(c.Owner()) {
		return credential.Credential{}, fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	return c, nil
}

// Add mirrors the database's composite foreign key: the account must be the owner's.
func (r credentialRepo) Add(_ context.Context, c credential.Credential) error {
	acc, ok := r.s.accounts[c.AccountID()]
	if !ok || !r.s.visible(c.Owner()) || acc.Owner() != c.Owner() {
		return fmt.Errorf("account %s: %w", c.AccountID(), domain.ErrNotFound)
	}
	if _, exists := r.s.credentials[c.ID()]; exists {
		return fmt.Errorf("credential %s: %w", c.ID(), domain.ErrAlreadyExists)
	}
	r.s.credentials[c.ID()] = c
	return nil
}

func (r credentialRepo) Update(ctx context.Context, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error) {
	c, err := r.Get(ctx, id)
	if err != nil {
		return credential.Credential{}, err
	}
	if err := change(&c); err != nil {
		return credential.Credential{}, err
	}
	r.s.credentials[id] = c
	return c, nil
}

func (r credentialRepo) Delete(ctx context.Context, id domain.ID) error {
	if _, err := r.Get(ctx, id); err != nil {
		return err
	}
	delete(r.s.credentials, id)
	return nil
}
