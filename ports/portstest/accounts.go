// Package portstest holds contract suites for the ports: one set of behaviours every
// adapter must show, run against the in-memory adapter and PostgreSQL alike.
package portstest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// AccountFixture returns a Transactor over a fresh, empty store for one test, and a
// function that makes a user known to that store before it is used (PostgreSQL needs
// Better Auth's user row for the foreign key; memory needs nothing).
type AccountFixture func(t *testing.T) (tx ports.Transactor, addUser func(t *testing.T, u user.ID))

// RunAccountRepositoryContract checks ports.AccountRepository, reached through
// ports.Transactor, against the behaviour the use cases rely on.
//
// "Newest first" is not part of the contract's cases: one account per user means no user can
// ever hold two rows to order. Adapters whose query could order wrongly check it themselves.
func RunAccountRepositoryContract(t *testing.T, newFixture AccountFixture) {
	t.Run("AddThenGetAndList", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)
		acc := s.newAccount(t, alice, "Alice's account")

		s.within(t, alice, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, acc)
		})

		got, err := s.get(t, alice, acc.ID())
		require.NoError(t, err)
		require.Equal(t, acc, got, "an account reads back exactly as it was written")
		require.Equal(t, []account.Account{acc}, s.list(t, alice))
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)

		_, err := s.get(t, alice, domain.NewID(time.Now()))
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.Empty(t, s.list(t, alice))
	})

	t.Run("SecondAddIsAlreadyExists", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)
		first := s.newAccount(t, alice, "First")
		second := s.newAccount(t, alice, "Second")
		s.within(t, alice, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, first)
		})

		err := s.tx.Within(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, second)
		})
		require.ErrorIs(t, err, domain.ErrAlreadyExists)
		require.Equal(t, []account.Account{first}, s.list(t, alice), "still exactly one row, the first")
	})

	t.Run("AddIfAbsentCreatesOnceThenReturnsTheExisting", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)
		first := s.newAccount(t, alice, "First")
		second := s.newAccount(t, alice, "Second")

		stored, created := s.addIfAbsent(t, alice, first)
		require.True(t, created)
		require.Equal(t, first, stored)

		stored, created = s.addIfAbsent(t, alice, second)
		require.False(t, created)
		require.Equal(t, first, stored, "the existing account, not the candidate")
		require.Equal(t, []account.Account{first}, s.list(t, alice))
	})

	t.Run("OtherUsersAccountIsInvisible", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.user(t), s.user(t)
		alices := s.newAccount(t, alice, "Alice's")
		s.within(t, alice, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, alices)
		})

		_, err := s.get(t, bob, alices.ID())
		require.ErrorIs(t, err, domain.ErrNotFound, "same answer as for an id that does not exist")
		require.Empty(t, s.list(t, bob))

		// Bob cannot write an account in Alice's name either.
		forged := s.newAccount(t, alice, "Forged")
		err = s.tx.Within(s.ctx, bob, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, forged)
		})
		require.ErrorIs(t, err, domain.ErrNotFound)
		err = s.tx.Within(s.ctx, bob, func(ctx context.Context, r ports.Repositories) error {
			_, _, err := r.Accounts.AddIfAbsent(ctx, forged)
			return err
		})
		require.ErrorIs(t, err, domain.ErrNotFound)

		// Bob's get-or-create makes his own account; it never returns Alice's.
		bobs := s.newAccount(t, bob, "Bob's")
		stored, created := s.addIfAbsent(t, bob, bobs)
		require.True(t, created)
		require.Equal(t, bobs, stored)

		require.Equal(t, []account.Account{alices}, s.list(t, alice), "Alice's account is untouched")
		require.Equal(t, []account.Account{bobs}, s.list(t, bob))
	})

	t.Run("NoActorSeesNothing", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)
		acc := s.newAccount(t, alice, "Alice's")
		s.within(t, alice, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, acc)
		})

		var nobody user.ID
		require.Empty(t, s.list(t, nobody))
		_, err := s.get(t, nobody, acc.ID())
		require.ErrorIs(t, err, domain.ErrNotFound)
	})

	t.Run("ErrorFromFnRollsBack", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)
		boom := errors.New("boom")

		err := s.tx.Within(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
			if err := r.Accounts.Add(ctx, s.newAccount(t, alice, "Doomed")); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom, "fn's error comes back")
		require.Empty(t, s.list(t, alice), "nothing was stored")

		err = s.tx.Within(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
			if _, _, err := r.Accounts.AddIfAbsent(ctx, s.newAccount(t, alice, "Doomed")); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Empty(t, s.list(t, alice))
	})

	t.Run("PanicInFnRollsBack", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)

		require.Panics(t, func() {
			_ = s.tx.Within(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
				if err := r.Accounts.Add(ctx, s.newAccount(t, alice, "Doomed")); err != nil {
					return err
				}
				panic("boom")
			})
		})
		require.Empty(t, s.list(t, alice), "nothing was stored")
	})

	for name, run := range writeModes {
		t.Run("ConcurrentAddIfAbsentAgreesOnOneAccount/"+name, func(t *testing.T) {
			s := newSuite(t, newFixture)
			alice := s.user(t)
			const n = 50

			type result struct {
				acc     account.Account
				created bool
				err     error
			}
			candidates := s.newAccounts(t, alice, n)
			results := make([]result, n)
			s.parallel(n, func(i int) {
				err := run(s.tx)(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
					var err error
					results[i].acc, results[i].created, err = r.Accounts.AddIfAbsent(ctx, candidates[i])
					return err
				})
				results[i].err = err
			})

			createdCount := 0
			for i, r := range results {
				require.NoError(t, r.err, "call %d", i)
				require.Equal(t, results[0].acc.ID(), r.acc.ID(), "call %d got another account", i)
				if r.created {
					createdCount++
				}
			}
			require.Equal(t, 1, createdCount, "exactly one call created the account")
			require.Len(t, s.list(t, alice), 1)
		})

		t.Run("ConcurrentAddSucceedsOnce/"+name, func(t *testing.T) {
			s := newSuite(t, newFixture)
			alice := s.user(t)
			const n = 30

			candidates := s.newAccounts(t, alice, n)
			errs := make([]error, n)
			s.parallel(n, func(i int) {
				errs[i] = run(s.tx)(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
					return r.Accounts.Add(ctx, candidates[i])
				})
			})

			successes := 0
			for i, err := range errs {
				if err == nil {
					successes++
					continue
				}
				require.ErrorIs(t, err, domain.ErrAlreadyExists, "call %d failed otherwise", i)
			}
			require.Equal(t, 1, successes)
			require.Len(t, s.list(t, alice), 1)
		})
	}

	t.Run("ReadKeepsNoWrite", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.user(t)
		acc := s.newAccount(t, alice, "Sneaky")
		_ = s.tx.Read(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
			return r.Accounts.Add(ctx, acc) // an adapter may refuse it or drop it; never keep it
		})
		require.Empty(t, s.list(t, alice))
	})

	t.Run("ReadAndEachCallSeeOnlyTheActorsRows", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.user(t), s.user(t)
		mine := s.newAccount(t, alice, "Alice's")
		s.within(t, alice, func(ctx context.Context, r ports.Repositories) error { return r.Accounts.Add(ctx, mine) })
		for name, run := range map[string]func(ports.Transactor) runFunc{"Read": readMode, "EachCall": eachCallMode} {
			var seen []account.Account
			require.NoError(t, run(s.tx)(s.ctx, bob, func(ctx context.Context, r ports.Repositories) error {
				var err error
				seen, err = r.Accounts.List(ctx)
				return err
			}), name)
			require.Empty(t, seen, "%s: bob sees none of alice's rows", name)
			require.NoError(t, run(s.tx)(s.ctx, alice, func(ctx context.Context, r ports.Repositories) error {
				var err error
				seen, err = r.Accounts.List(ctx)
				return err
			}), name)
			require.Len(t, seen, 1, name)
		}
	})
}

// runFunc is one of the Transactor's ways to run a unit of work.
type runFunc func(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error

func withinMode(tx ports.Transactor) runFunc   { return tx.Within }
func eachCallMode(tx ports.Transactor) runFunc { return tx.EachCall }
func readMode(tx ports.Transactor) runFunc     { return tx.Read }

// writeModes are the ways to run a write; the concurrency cases hold for each.
var writeModes = map[string]func(ports.Transactor) runFunc{"Within": withinMode, "EachCall": eachCallMode}

type suite struct {
	ctx     context.Context
	tx      ports.Transactor
	addUser func(t *testing.T, u user.ID)
}

func newSuite(t *testing.T, newFixture AccountFixture) *suite {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	tx, addUser := newFixture(t)
	return &suite{ctx: ctx, tx: tx, addUser: addUser}
}

// user makes a fresh user, known to the store, with an id shaped like Better Auth's.
func (s *suite) user(t *testing.T) user.ID {
	t.Helper()
	id, err := user.ParseID(rand.Text())
	require.NoError(t, err)
	s.addUser(t, id)
	return id
}

func (s *suite) newAccount(t *testing.T, owner user.ID, name string) account.Account {
	t.Helper()
	n, err := account.ParseName(name)
	require.NoError(t, err)
	acc, err := account.New(owner, n, time.Now())
	require.NoError(t, err)
	return acc
}

// newAccounts builds n distinct candidates up front: goroutines other than the test's own
// must not call require.
func (s *suite) newAccounts(t *testing.T, owner user.ID, n int) []account.Account {
	t.Helper()
	out := make([]account.Account, n)
	for i := range out {
		out[i] = s.newAccount(t, owner, "Default")
	}
	return out
}

func (s *suite) within(t *testing.T, actor user.ID, fn func(context.Context, ports.Repositories) error) {
	t.Helper()
	require.NoError(t, s.tx.Within(s.ctx, actor, fn))
}

func (s *suite) list(t *testing.T, actor user.ID) []account.Account {
	t.Helper()
	var out []account.Account
	s.within(t, actor, func(ctx context.Context, r ports.Repositories) error {
		var err error
		out, err = r.Accounts.List(ctx)
		return err
	})
	return out
}

func (s *suite) get(t *testing.T, actor user.ID, id domain.ID) (account.Account, error) {
	t.Helper()
	var out account.Account
	err := s.tx.Within(s.ctx, actor, func(ctx context.Context, r ports.Repositories) error {
		var err error
		out, err = r.Accounts.Get(ctx, id)
		return err
	})
	return out, err
}

func (s *suite) addIfAbsent(t *testing.T, actor user.ID, a account.Account) (account.Account, bool) {
	t.Helper()
	var stored account.Account
	var created bool
	s.within(t, actor, func(ctx context.Context, r ports.Repositories) error {
		var err error
		stored, created, err = r.Accounts.AddIfAbsent(ctx, a)
		return err
	})
	return stored, created
}

// parallel runs fn(0..n-1) in n goroutines released at the same moment, and waits. fn must
// record its outcome rather than call require.
func (s *suite) parallel(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
