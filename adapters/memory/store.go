// Package memory implements the repository ports in process memory, for use-case tests and
// as the reference the PostgreSQL adapter is checked against by the shared contract suite.
// It fails like the database does: an unknown session is ports.ErrUnauthenticated before
// anything else, another user's rows are not there, and a call either commits all it
// changed or nothing.
package memory

import (
	"context"
	"crypto/rand"
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
// committed call.
type Store struct {
	mu          sync.Mutex
	sessions    map[string]user.ID // token → user: the live sessions
	accounts    map[domain.ID]account.Account
	credentials map[domain.ID]credential.Credential
}

func NewStore() *Store {
	return &Store{
		sessions:    map[string]user.ID{},
		accounts:    map[domain.ID]account.Account{},
		credentials: map[domain.ID]credential.Credential{},
	}
}

// Accounts is the store's AccountRepository.
func (s *Store) Accounts() ports.AccountRepository { return accountRepo{s} }

// Credentials is the store's CredentialRepository.
func (s *Store) Credentials() ports.CredentialRepository { return credentialRepo{s} }

// AddSession makes token a live session of u, as signing in does.
func (s *Store) AddSession(token string, u user.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[token] = u
}

// EndSession forgets token, as signing out, expiry or a ban does.
func (s *Store) EndSession(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, token)
}

// SignIn creates a live session for u and returns it, for tests.
func (s *Store) SignIn(u user.ID) user.Session {
	token := rand.Text() // 26 characters of base32, printable like a real token
	s.AddSession(token, u)
	sess, err := user.NewSession(token)
	if err != nil {
		panic(err) // the token above is always well formed
	}
	return sess
}

// txn is one call's working copy, seen through one user's eyes.
type txn struct {
	actor       user.ID
	accounts    map[domain.ID]account.Account
	credentials map[domain.ID]credential.Credential
}

func (t *txn) visible(owner user.ID) bool { return owner == t.actor }

// transact serialises calls, which makes them trivially isolated: it resolves the session,
// runs fn on a copy and commits the copy only when fn succeeds.
func (s *Store) transact(ctx context.Context, sess user.Session, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	actor, ok := s.sessions[sess.Token()]
	if !ok || sess.IsZero() {
		return fmt.Errorf("memory: no live session: %w", ports.ErrUnauthenticated)
	}
	sess.Resolved(actor)
	work := &txn{actor: actor, accounts: maps.Clone(s.accounts), credentials: maps.Clone(s.credentials)}
	if err := fn(work); err != nil {
		return err
	}
	s.accounts, s.credentials = work.accounts, work.credentials
	return nil
}

// Sessions is the store's ports.Sessions.
func (s *Store) Sessions() ports.Sessions { return sessionRepo{s} }

type sessionRepo struct{ s *Store }

func (r sessionRepo) Resolve(ctx context.Context, sess user.Session) (user.ID, error) {
	var id user.ID
	err := r.s.transact(ctx, sess, func(t *txn) error {
		id = t.actor
		return nil
	})
	return id, err
}
