// Package memory implements the repository ports in process memory, for use-case tests and
// as the reference the PostgreSQL adapter is checked against by the shared contract suite.
package memory

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// Store holds values, not pointers, so nothing can change a stored aggregate except a
// committed transaction.
type Store struct {
	mu          sync.Mutex
	accounts    map[domain.ID]account.Account
	credentials map[domain.ID]credential.Credential
}

var _ ports.Transactor = (*Store)(nil)

func NewStore() *Store {
	return &Store{accounts: map[domain.ID]account.Account{}, credentials: map[domain.ID]credential.Credential{}}
}

// Within serialises transactions, which makes them trivially isolated, and commits the
// working copy only when fn succeeds.
func (s *Store) Within(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	work := &snapshot{actor: actor, accounts: maps.Clone(s.accounts), credentials: maps.Clone(s.credentials)}
	if err := fn(ctx, ports.Repositories{Accounts: accountRepo{work}, Credentials: credentialRepo{work}}); err != nil {
		return err
	}
	s.accounts, s.credentials = work.accounts, work.credentials
	return nil
}

// EachCall is Within: one transaction for all of fn is at least as strong.
func (s *Store) EachCall(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	return s.Within(ctx, actor, fn)
}

// Read runs fn on a working copy that is thrown away: nothing fn does is kept.
func (s *Store) Read(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	work := &snapshot{actor: actor, accounts: maps.Clone(s.accounts), credentials: maps.Clone(s.credentials)}
	return fn(ctx, ports.Repositories{Accounts: accountRepo{work}, Credentials: credentialRepo{work}})
}

// snapshot is one transaction's working copy, seen through one user's eyes.
type snapshot struct {
	actor       user.ID
	accounts    map[domain.ID]account.Account
	credentials map[domain.ID]credential.Credential
}

func (s *snapshot) visible(owner user.ID) bool {
	// No actor, no rows: the same default-deny as the database policies.
	return !s.actor.IsZero() && owner == s.actor
}
