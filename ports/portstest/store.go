// Package portstest holds contract suites for the ports: one set of behaviours every
// adapter must show, run against the in-memory adapter and PostgreSQL alike.
package portstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// Store is one fresh, empty store for one test, as the contract suites see it.
type Store struct {
	Sessions    ports.Sessions
	Accounts    ports.AccountRepository
	Credentials ports.CredentialRepository
	Trail       ports.CredentialTrail
	Rotation    ports.RotationStore
	// SignIn makes a new user known to the store, with a live session, as Better Auth's
	// sign-up does; EndSession ends that session, as signing out does.
	SignIn     func(t *testing.T) (user.ID, user.Session)
	EndSession func(t *testing.T, s user.Session)
	// Impersonate makes a new admin and a live session in which the admin acts as u, as
	// Better Auth's admin plugin does, and returns both.
	Impersonate func(t *testing.T, u user.ID) (admin user.ID, s user.Session)
}

// Fixture returns a fresh Store for one test.
type Fixture func(t *testing.T) Store

type suite struct {
	Store
	ctx context.Context
}

func newSuite(t *testing.T, newFixture Fixture) *suite {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &suite{Store: newFixture(t), ctx: ctx}
}

// member is a signed-in user.
type member struct {
	id      user.ID
	session user.Session
}

func (s *suite) member(t *testing.T) member {
	t.Helper()
	id, sess := s.SignIn(t)
	return member{id: id, session: sess}
}

func (s *suite) newAccount(t *testing.T, owner user.ID, name string) account.Account {
	t.Helper()
	n, err := account.ParseName(name)
	require.NoError(t, err)
	acc, err := account.New(owner, n, time.Now())
	require.NoError(t, err)
	return acc
}

// opening returns an OpenAccount that builds an account called name for whoever the
// session resolves to. It never calls require, so goroutines may use it.
func opening(name string) ports.OpenAccount {
	return func(owner user.ID) (account.Account, error) {
		n, err := account.ParseName(name)
		if err != nil {
			return account.Account{}, err
		}
		return account.New(owner, n, time.Now())
	}
}

// storing returns an OpenAccount that ignores the owner and builds a, for forgeries.
func storing(a account.Account) ports.OpenAccount {
	return func(user.ID) (account.Account, error) { return a, nil }
}

func (s *suite) list(t *testing.T, m member) []account.Account {
	t.Helper()
	out, err := s.Accounts.List(s.ctx, m.session)
	require.NoError(t, err)
	return out
}

// account stores a fresh account for m and returns it.
func (s *suite) account(t *testing.T, m member) account.Account {
	t.Helper()
	acc, err := s.Accounts.Add(s.ctx, m.session, opening("Account"))
	require.NoError(t, err)
	return acc
}

// parallel runs fn(0..n-1) in n goroutines released at the same moment, and waits. fn must
// record its outcome rather than call require.
func parallel(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
