package portstest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// RunAccountRepositoryContract checks ports.AccountRepository against the behaviour the use
// cases rely on.
//
// "Newest first" is not part of the contract's cases: one account per user means no user can
// ever hold two rows to order. Adapters whose query could order wrongly check it themselves.
func RunAccountRepositoryContract(t *testing.T, newFixture Fixture) {
	t.Run("AddBuildsForTheSessionsUserThenLists", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		var owner user.ID
		acc, err := s.Accounts.Add(s.ctx, alice.session, func(o user.ID) (account.Account, error) {
			owner = o
			return opening("Alice's account")(o)
		})
		require.NoError(t, err)
		require.Equal(t, alice.id, owner, "open is handed the user the session resolved to")
		require.Equal(t, alice.id, acc.Owner())
		require.Equal(t, []account.Account{acc}, s.list(t, alice), "an account reads back exactly as it was written")
		who, ok := alice.session.User()
		require.True(t, ok, "the session remembers whom it resolved to")
		require.Equal(t, alice.id, who)
	})

	t.Run("SecondAddIsAlreadyExists", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		first := s.account(t, alice)

		_, err := s.Accounts.Add(s.ctx, alice.session, opening("Second"))
		require.ErrorIs(t, err, domain.ErrAlreadyExists)
		require.Equal(t, []account.Account{first}, s.list(t, alice), "still exactly one row, the first")
	})

	t.Run("AddIfAbsentCreatesOnceThenReturnsTheExisting", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)

		stored, created, err := s.Accounts.AddIfAbsent(s.ctx, alice.session, opening("First"))
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, alice.id, stored.Owner())
		require.Equal(t, "First", stored.Name().String())

		again, created, err := s.Accounts.AddIfAbsent(s.ctx, alice.session, opening("Second"))
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, stored, again, "the existing account, not a new one")
		require.Equal(t, []account.Account{stored}, s.list(t, alice))
	})

	t.Run("OtherUsersAccountIsInvisible", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alices := s.account(t, alice)
		require.Empty(t, s.list(t, bob))

		// Bob cannot write an account in Alice's name.
		forged := s.newAccount(t, alice.id, "Forged")
		_, err := s.Accounts.Add(s.ctx, bob.session, storing(forged))
		require.ErrorIs(t, err, domain.ErrNotFound)
		_, _, err = s.Accounts.AddIfAbsent(s.ctx, bob.session, storing(forged))
		require.ErrorIs(t, err, domain.ErrNotFound)

		// Bob's get-or-create makes his own account; it never returns Alice's.
		bobs, created, err := s.Accounts.AddIfAbsent(s.ctx, bob.session, opening("Bob's"))
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, bob.id, bobs.Owner())

		require.Equal(t, []account.Account{alices}, s.list(t, alice), "Alice's account is untouched")
		require.Equal(t, []account.Account{bobs}, s.list(t, bob))
	})

	t.Run("SessionsResolveToTheirUser", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		for _, m := range []member{alice, bob} {
			got, err := s.Sessions.Resolve(s.ctx, m.session)
			require.NoError(t, err)
			require.Equal(t, m.id, got)
		}
		s.EndSession(t, alice.session)
		_, err := s.Sessions.Resolve(s.ctx, alice.session)
		require.ErrorIs(t, err, ports.ErrUnauthenticated, "refused on the very next call")
		_, err = s.Sessions.Resolve(s.ctx, user.Session{})
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
	})

	t.Run("EndedOrUnknownSessionIsRefusedBeforeAnything", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		s.EndSession(t, alice.session)
		unknown, err := user.NewSession("unknown-session-token")
		require.NoError(t, err)

		for _, sess := range []user.Session{alice.session, unknown, {}} {
			built := false
			open := func(o user.ID) (account.Account, error) { built = true; return opening("Never")(o) }
			_, err := s.Accounts.List(s.ctx, sess)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			_, err = s.Accounts.Add(s.ctx, sess, open)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			_, _, err = s.Accounts.AddIfAbsent(s.ctx, sess, open)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			require.False(t, built, "nothing is built for a session that resolves to no one")
		}
		again := s.member(t)
		require.Empty(t, s.list(t, again))
	})

	t.Run("OpenErrorStoresNothing", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		boom := errors.New("boom")
		failing := func(user.ID) (account.Account, error) { return account.Account{}, boom }

		_, err := s.Accounts.Add(s.ctx, alice.session, failing)
		require.ErrorIs(t, err, boom, "open's error comes back")
		_, _, err = s.Accounts.AddIfAbsent(s.ctx, alice.session, failing)
		require.ErrorIs(t, err, boom)
		require.Empty(t, s.list(t, alice), "nothing was stored")
	})

	t.Run("ConcurrentAddIfAbsentAgreesOnOneAccount", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		const n = 50
		type result struct {
			acc     account.Account
			created bool
			err     error
		}
		results := make([]result, n)
		parallel(n, func(i int) {
			var r result
			r.acc, r.created, r.err = s.Accounts.AddIfAbsent(s.ctx, alice.session, opening("Default"))
			results[i] = r
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

	t.Run("ConcurrentAddSucceedsOnce", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		const n = 30
		errs := make([]error, n)
		parallel(n, func(i int) {
			_, errs[i] = s.Accounts.Add(s.ctx, alice.session, opening("Main"))
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
