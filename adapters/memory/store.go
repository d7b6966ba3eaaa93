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
	"time"

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
	sessions    map[string]user.Actor // token → who acts through it: the live sessions
	accounts    map[domain.ID]account.Account
	credentials map[domain.ID]credential.Credential
	events      []credential.Event // append-only, in the order recorded
	lastEventAt time.Time          // events get strictly increasing times, as ordering needs
}

func NewStore() *Store {
	return &Store{
		sessions:    map[string]user.Actor{},
		accounts:    map[domain.ID]account.Account{},
		credentials: map[domain.ID]credential.Credential{},
	}
}

// Accounts is the store's AccountRepository.
func (s *Store) Accounts() ports.AccountRepository { return accountRepo{s} }

// Credentials is the store's CredentialRepository.
func (s *Store) Credentials() ports.CredentialRepository { return credentialRepo{s} }

// Trail is the store's CredentialTrail.
func (s *Store) Trail() ports.CredentialTrail { return trail{s} }

// AddSession makes token a live session of u, as signing in does.
func (s *Store) AddSession(token string, u user.ID) {
	s.addSession(token, user.Actor{User: u})
}

// AddImpersonatedSession makes token a live session of u in which admin acts, as Better
// Auth's admin plugin does.
func (s *Store) AddImpersonatedSession(token string, u, admin user.ID) {
	s.addSession(token, user.Actor{User: u, ImpersonatedBy: admin})
}

func (s *Store) addSession(token string, a user.Actor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[token] = a
}

// EndSession forgets token, as signing out, expiry or a ban does.
func (s *Store) EndSession(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, token)
}

// SignIn creates a live session for u and returns it, for tests.
func (s *Store) SignIn(u user.ID) user.Session {
	return s.session(user.Actor{User: u})
}

// Impersonate creates a live session of u that admin acts through, as Better Auth's admin
// plugin does, and returns it, for tests.
func (s *Store) Impersonate(u, admin user.ID) user.Session {
	return s.session(user.Actor{User: u, ImpersonatedBy: admin})
}

func (s *Store) session(a user.Actor) user.Session {
	token := rand.Text() // 26 characters of base32, printable like a real token
	s.addSession(token, a)
	sess, err := user.NewSession(token)
	if err != nil {
		panic(err) // the token above is always well formed
	}
	return sess
}

// txn is one call's working copy, seen through one user's eyes.
type txn struct {
	ctx         context.Context
	store       *Store
	actor       user.Actor
	accounts    map[domain.ID]account.Account
	credentials map[domain.ID]credential.Credential
	events      []credential.Event // recorded by this call
	// keep commits the events even though fn fails: a refusal is recorded, and nothing
	// else changes.
	keep bool
}

func (t *txn) visible(owner user.ID) bool { return owner == t.actor.User }

// record appends an event about c (its account and owner), as the database would: with
// the request id of the call's context and the impersonating admin, if any.
func (t *txn) record(credentialID, accountID domain.ID, action credential.Action, outcome credential.Outcome) {
	t.events = append(t.events, credential.Event{
		CredentialID: credentialID, AccountID: accountID, Owner: t.actor.User,
		Action: action, Outcome: outcome, RequestID: ports.RequestID(t.ctx), ImpersonatedBy: t.actor.ImpersonatedBy,
	})
}

// transact serialises calls, which makes them trivially isolated: it resolves the session,
// runs fn on a copy and commits the copy only when fn succeeds (or, for a refusal, only
// the refusal's event).
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
	work := &txn{ctx: ctx, store: s, actor: actor, accounts: maps.Clone(s.accounts), credentials: maps.Clone(s.credentials)}
	err := fn(work)
	if err == nil {
		s.accounts, s.credentials = work.accounts, work.credentials
	}
	if err == nil || work.keep {
		s.append(work.events)
	}
	return err
}

// append stores events with fresh ids and strictly increasing times.
func (s *Store) append(events []credential.Event) {
	for _, e := range events {
		at := time.Now().UTC().Truncate(time.Microsecond) // what timestamptz keeps
		if !at.After(s.lastEventAt) {
			at = s.lastEventAt.Add(time.Microsecond)
		}
		s.lastEventAt = at
		e.ID, e.At = domain.NewID(at), at
		s.events = append(s.events, e)
	}
}

// Sessions is the store's ports.Sessions.
func (s *Store) Sessions() ports.Sessions { return sessionRepo{s} }

type sessionRepo struct{ s *Store }

func (r sessionRepo) Resolve(ctx context.Context, sess user.Session) (user.ID, error) {
	var id user.ID
	err := r.s.transact(ctx, sess, func(t *txn) error {
		id = t.actor.User
		return nil
	})
	return id, err
}
