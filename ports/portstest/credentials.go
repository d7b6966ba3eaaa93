package portstest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// RunCredentialRepositoryContract checks ports.CredentialRepository against the behaviour
// the use cases rely on. Above all: another user's credential, or an account that is not
// the session's user's, is domain.ErrNotFound and stays untouched, exactly like one that
// does not exist.
func RunCredentialRepositoryContract(t *testing.T, newFixture Fixture) {
	t.Run("AddThenGetAndList", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		c := s.newCredential(t, acc, "Main", time.Now())

		s.addCredential(t, alice, c)

		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, c, got, "a credential reads back field for field as it was written")
		require.Equal(t, c.APIKey().Ciphertext, got.APIKey().Ciphertext, "sealed bytes intact, NULs and all")
		require.Equal(t, c.SecretKey().Ciphertext, got.SecretKey().Ciphertext)
		require.Equal(t, []credential.Credential{c}, s.listCredentials(t, alice, acc.ID()))
	})

	t.Run("ListIsNewestFirstAndOnlyThatAccounts", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alices, bobs := s.account(t, alice), s.account(t, bob)
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

		// Added out of order; two share a timestamp, so the id breaks the tie.
		oldest := s.newCredential(t, alices, "Oldest", t0.Add(-time.Hour))
		middle := s.newCredential(t, alices, "Middle", t0)
		tieA := s.newCredential(t, alices, "Tie A", t0.Add(time.Hour))
		tieB := s.newCredential(t, alices, "Tie B", t0.Add(time.Hour))
		for _, c := range []credential.Credential{middle, tieA, oldest, tieB} {
			s.addCredential(t, alice, c)
		}
		s.addCredential(t, bob, s.newCredential(t, bobs, "Bob's", t0.Add(2*time.Hour)))

		if tieA.ID().Compare(tieB.ID()) < 0 {
			tieA, tieB = tieB, tieA
		}
		require.Equal(t, []credential.Credential{tieA, tieB, middle, oldest}, s.listCredentials(t, alice, alices.ID()))

		require.Empty(t, s.listCredentials(t, alice, bobs.ID()), "another user's account lists nothing")
		require.Empty(t, s.listCredentials(t, alice, domain.NewID(time.Now())), "an unknown account lists nothing")
		require.Len(t, s.listCredentials(t, bob, bobs.ID()), 1)
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		s.account(t, alice)

		_, err := s.getCredential(t, alice, domain.NewID(time.Now()))
		require.ErrorIs(t, err, domain.ErrNotFound)
		_, err = s.updateCredential(t, alice, domain.NewID(time.Now()), rename("x"))
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.ErrorIs(t, s.deleteCredential(t, alice, domain.NewID(time.Now())), domain.ErrNotFound)
	})

	t.Run("OtherUsersCredentialIsNotFoundAndUnchanged", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alices := s.account(t, alice)
		s.account(t, bob)
		c := s.newCredential(t, alices, "Alice's", time.Now())
		s.addCredential(t, alice, c)

		_, err := s.getCredential(t, bob, c.ID())
		require.ErrorIs(t, err, domain.ErrNotFound, "same answer as for an id that does not exist")

		called := false
		_, err = s.updateCredential(t, bob, c.ID(), func(c *credential.Credential) error {
			called = true
			return rename("pwned")(c)
		})
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.False(t, called, "Bob's change never sees Alice's credential")

		require.ErrorIs(t, s.deleteCredential(t, bob, c.ID()), domain.ErrNotFound)
		require.Empty(t, s.listCredentials(t, bob, alices.ID()))

		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, c, got, "Alice's credential is unchanged")
	})

	t.Run("AddUnderAnotherUsersAccountIsNotFound", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alices := s.account(t, alice)
		s.account(t, bob)

		// Bob's own credential, pointed at Alice's account.
		draft, err := credential.NewDraft(alices.ID(), bob.id, credential.Alpaca, credential.Paper, nil, time.Now())
		require.NoError(t, err)
		hijack := s.seal(t, draft)
		_, err = s.Credentials.Add(s.ctx, bob.session, alices.ID(), roomy, built(hijack))
		require.ErrorIs(t, err, domain.ErrNotFound)

		// A credential in Alice's name, added by Bob.
		forged := s.newCredential(t, alices, "Forged", time.Now())
		_, err = s.Credentials.Add(s.ctx, bob.session, alices.ID(), roomy, built(forged))
		require.ErrorIs(t, err, domain.ErrNotFound)

		require.Empty(t, s.listCredentials(t, alice, alices.ID()), "nothing was stored under Alice's account")
		for _, id := range []domain.ID{hijack.ID(), forged.ID()} {
			_, err = s.getCredential(t, bob, id)
			require.ErrorIs(t, err, domain.ErrNotFound)
			_, err = s.getCredential(t, alice, id)
			require.ErrorIs(t, err, domain.ErrNotFound)
		}
	})

	t.Run("AddUnderUnknownAccountIsNotFound", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		s.account(t, alice)
		nowhere := s.newAccount(t, alice.id, "Never stored")
		c := s.newCredential(t, nowhere, "Orphan", time.Now())

		_, err := s.Credentials.Add(s.ctx, alice.session, c.AccountID(), roomy, built(c))
		require.ErrorIs(t, err, domain.ErrNotFound)
		_, err = s.getCredential(t, alice, c.ID())
		require.ErrorIs(t, err, domain.ErrNotFound)
	})

	t.Run("SameIDTwiceIsAlreadyExists", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		c := s.newCredential(t, s.account(t, alice), "Once", time.Now())
		s.addCredential(t, alice, c)

		_, err := s.Credentials.Add(s.ctx, alice.session, c.AccountID(), roomy, built(c))
		require.ErrorIs(t, err, domain.ErrAlreadyExists)
	})

	t.Run("UpdateAppliesAndPersists", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		c := s.newCredential(t, s.account(t, alice), "Before", time.Now())
		s.addCredential(t, alice, c)

		nick := mustNickname(t, "After")
		inactive := false
		apiKey, secretKey := randomSealed(t, "k2"), randomSealed(t, "k2")
		later := c.UpdatedAt().Add(time.Minute)
		updated, err := s.updateCredential(t, alice, c.ID(), func(c *credential.Credential) error {
			return c.Apply(credential.Change{Nickname: &nick, Active: &inactive, APIKey: &apiKey, SecretKey: &secretKey}, later)
		})
		require.NoError(t, err)
		require.Equal(t, "After", updated.Nickname().String())
		require.False(t, updated.Active())
		require.Equal(t, apiKey, updated.APIKey())
		require.Equal(t, secretKey, updated.SecretKey())
		require.Equal(t, later.UTC().Truncate(time.Microsecond), updated.UpdatedAt())
		require.Equal(t, c.CreatedAt(), updated.CreatedAt())

		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, updated, got, "what Update returned is what was stored")
	})

	t.Run("UpdateErrorFromChangeStoresNothing", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		c := s.newCredential(t, s.account(t, alice), "Kept", time.Now())
		s.addCredential(t, alice, c)
		boom := errors.New("boom")
		failing := func(c *credential.Credential) error {
			if err := rename("Lost")(c); err != nil {
				return err
			}
			return boom
		}

		_, err := s.updateCredential(t, alice, c.ID(), failing)
		require.ErrorIs(t, err, boom, "change's error comes back")
		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, c, got)

	})

	t.Run("BuildErrorStoresNothing", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		boom := errors.New("boom")

		_, err := s.Credentials.Add(s.ctx, alice.session, acc.ID(), roomy, func(user.ID) (credential.Credential, error) {
			return credential.Credential{}, boom
		})
		require.ErrorIs(t, err, boom, "build's error comes back")
		require.Empty(t, s.listCredentials(t, alice, acc.ID()))
	})

	t.Run("DeleteThenGetIsNotFound", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		gone := s.newCredential(t, acc, "Gone", time.Now())
		kept := s.newCredential(t, acc, "Kept", time.Now())
		s.addCredential(t, alice, gone)
		s.addCredential(t, alice, kept)

		require.NoError(t, s.deleteCredential(t, alice, gone.ID()))
		_, err := s.getCredential(t, alice, gone.ID())
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.ErrorIs(t, s.deleteCredential(t, alice, gone.ID()), domain.ErrNotFound, "a second delete finds nothing")
		require.Equal(t, []credential.Credential{kept}, s.listCredentials(t, alice, acc.ID()))
	})

	t.Run("EndedOrUnknownSessionIsRefusedBeforeAnything", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		c := s.newCredential(t, acc, "Alice's", time.Now())
		s.addCredential(t, alice, c)
		ended := s.member(t)
		s.EndSession(t, ended.session)
		unknown, err := user.NewSession("unknown-session-token")
		require.NoError(t, err)

		for _, sess := range []user.Session{ended.session, unknown, {}} {
			called := false
			_, _, err := s.Credentials.List(s.ctx, sess, acc.ID(), firstPage)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			_, err = s.Credentials.Get(s.ctx, sess, c.ID())
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			_, err = s.Credentials.Add(s.ctx, sess, acc.ID(), roomy, func(user.ID) (credential.Credential, error) {
				called = true
				return c, nil
			})
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			_, err = s.Credentials.Update(s.ctx, sess, c.ID(), func(c *credential.Credential) error {
				called = true
				return rename("x")(c)
			})
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			require.ErrorIs(t, s.Credentials.Delete(s.ctx, sess, c.ID()), ports.ErrUnauthenticated)
			require.False(t, called, "nothing is built or changed for a session that resolves to no one")
		}
		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, c, got, "Alice's credential is untouched")
	})

	// Test 24 of docs/reliability.md: nothing about a credential is unique across users, so a conflict
	// can never reveal that someone else holds the same label or the same sealed bytes.
	t.Run("NoUniquenessSideChannel", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alicesAccount := s.account(t, alice)
		alices := s.newCredential(t, alicesAccount, "Trading", time.Now())
		s.addCredential(t, alice, alices)

		draft, err := credential.NewDraft(s.account(t, bob).ID(), bob.id, credential.Alpaca, credential.Paper, ptr(mustNickname(t, "Trading")), time.Now())
		require.NoError(t, err)
		bobs, err := credential.New(draft, alices.APIKey(), alices.SecretKey())
		require.NoError(t, err)
		s.addCredential(t, bob, bobs)

		// And the same label twice for one user is fine too.
		again := s.newCredential(t, alicesAccount, "Trading", time.Now())
		s.addCredential(t, alice, again)
	})

	t.Run("AddStopsAtTheLimitPerAccount", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		const limit = 3
		for i := range limit {
			_, err := s.Credentials.Add(s.ctx, alice.session, acc.ID(), limit, built(s.newCredential(t, acc, fmt.Sprintf("n-%d", i), time.Now())))
			require.NoError(t, err)
		}
		_, err := s.Credentials.Add(s.ctx, alice.session, acc.ID(), limit, built(s.newCredential(t, acc, "one too many", time.Now())))
		require.ErrorIs(t, err, credential.ErrLimitReached)
		require.Len(t, s.listCredentials(t, alice, acc.ID()), limit, "nothing was stored past the limit")

		// The limit is per account: another user's is untouched by Alice's.
		bob := s.member(t)
		bobs := s.account(t, bob)
		_, err = s.Credentials.Add(s.ctx, bob.session, bobs.ID(), limit, built(s.newCredential(t, bobs, "Bob's", time.Now())))
		require.NoError(t, err)
	})

	t.Run("ConcurrentAddsNeverPassTheLimit", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		const limit, n = 5, 20
		candidates := make([]credential.Credential, n)
		for i := range candidates {
			candidates[i] = s.newCredential(t, acc, fmt.Sprintf("c-%d", i), time.Now())
		}
		errs := make([]error, n)
		parallel(n, func(i int) {
			_, errs[i] = s.Credentials.Add(s.ctx, alice.session, acc.ID(), limit, built(candidates[i]))
		})
		stored := 0
		for i, err := range errs {
			if err == nil {
				stored++
				continue
			}
			require.ErrorIs(t, err, credential.ErrLimitReached, "call %d failed otherwise", i)
		}
		require.Equal(t, limit, stored, "exactly the limit was stored, however the calls interleaved")
		require.Len(t, s.listCredentials(t, alice, acc.ID()), limit)
	})

	t.Run("ListPagesWalkEveryCredentialOnceNewestFirst", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		var want []credential.Credential
		for i := range 7 {
			// Pairs share a timestamp, so pages must break ties by id, never skip or repeat.
			c := s.newCredential(t, acc, fmt.Sprintf("p-%d", i), t0.Add(time.Duration(i/2)*time.Minute))
			s.addCredential(t, alice, c)
			want = append(want, c)
		}
		slices.SortFunc(want, func(a, b credential.Credential) int {
			if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
				return c
			}
			return b.ID().Compare(a.ID())
		})
		var got []credential.Credential
		var after credential.Cursor
		for pages := 1; ; pages++ {
			page, more, err := s.Credentials.List(s.ctx, alice.session, acc.ID(), credential.Page{Size: 3, After: after})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 3)
			got = append(got, page...)
			if !more {
				require.Equal(t, 3, pages)
				break
			}
			require.Len(t, page, 3, "a page with more after it is full")
			after = credential.CursorAfter(page[len(page)-1])
		}
		require.Equal(t, want, got)

		exact, more, err := s.Credentials.List(s.ctx, alice.session, acc.ID(), credential.Page{Size: 7})
		require.NoError(t, err)
		require.False(t, more, "a page that ends exactly at the last credential has nothing after it")
		require.Len(t, exact, 7)
	})

	t.Run("ConcurrentUpdatesSerialize", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		c := s.newCredential(t, s.account(t, alice), "n-0", time.Now())
		s.addCredential(t, alice, c)
		const n = 20

		// Each update reads the counter in the nickname and writes the next one: a lost
		// update would leave the final count short.
		errs := make([]error, n)
		parallel(n, func(i int) {
			_, errs[i] = s.Credentials.Update(s.ctx, alice.session, c.ID(), func(c *credential.Credential) error {
				k, err := strconv.Atoi(strings.TrimPrefix(c.Nickname().String(), "n-"))
				if err != nil {
					return err
				}
				return rename(fmt.Sprintf("n-%d", k+1))(c)
			})
		})
		for i, err := range errs {
			require.NoError(t, err, "update %d", i)
		}
		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("n-%d", n), got.Nickname().String(), "every update saw the one before it")
	})
}

// newCredential builds (does not store) a credential of acc's owner under acc, sealed with
// random bytes: the repositories must treat sealed values as opaque.
func (s *suite) newCredential(t *testing.T, acc account.Account, nickname string, now time.Time) credential.Credential {
	t.Helper()
	draft, err := credential.NewDraft(acc.ID(), acc.Owner(), credential.Alpaca, credential.Live, ptr(mustNickname(t, nickname)), now)
	require.NoError(t, err)
	return s.seal(t, draft)
}

func (s *suite) seal(t *testing.T, d credential.Draft) credential.Credential {
	t.Helper()
	c, err := credential.New(d, randomSealed(t, "k1"), randomSealed(t, "k1"))
	require.NoError(t, err)
	return c
}

// built is a NewCredential that ignores the owner and returns c, for forgeries and fixtures.
func built(c credential.Credential) ports.NewCredential {
	return func(user.ID) (credential.Credential, error) { return c, nil }
}

func (s *suite) addCredential(t *testing.T, m member, c credential.Credential) {
	t.Helper()
	var owner user.ID
	stored, err := s.Credentials.Add(s.ctx, m.session, c.AccountID(), roomy, func(o user.ID) (credential.Credential, error) {
		owner = o
		return c, nil
	})
	require.NoError(t, err)
	require.Equal(t, m.id, owner, "build is handed the user the session resolved to")
	require.Equal(t, c, stored)
}

func (s *suite) getCredential(t *testing.T, m member, id domain.ID) (credential.Credential, error) {
	t.Helper()
	return s.Credentials.Get(s.ctx, m.session, id)
}

// listCredentials lists one page of up to MaxPageSize and checks that nothing follows it.
func (s *suite) listCredentials(t *testing.T, m member, accountID domain.ID) []credential.Credential {
	t.Helper()
	out, more, err := s.Credentials.List(s.ctx, m.session, accountID, firstPage)
	require.NoError(t, err)
	require.False(t, more)
	return out
}

// roomy is a limit per account no case reaches; firstPage is the largest first page.
const roomy = 1000

var firstPage = credential.Page{Size: credential.MaxPageSize}

func (s *suite) updateCredential(t *testing.T, m member, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error) {
	t.Helper()
	return s.Credentials.Update(s.ctx, m.session, id, change)
}

func (s *suite) deleteCredential(t *testing.T, m member, id domain.ID) error {
	t.Helper()
	return s.Credentials.Delete(s.ctx, m.session, id)
}

// rename is a change that sets the nickname; it never calls require, so goroutines may use it.
func rename(nickname string) func(*credential.Credential) error {
	return func(c *credential.Credential) error {
		n, err := credential.ParseNickname(nickname)
		if err != nil {
			return err
		}
		return c.Apply(credential.Change{Nickname: &n}, time.Now())
	}
}

// randomSealed is an opaque sealed value: 40 random bytes with a NUL and a byte that is not
// UTF-8, so a store that treats ciphertext as text would corrupt it visibly.
func randomSealed(t *testing.T, keyID string) credential.Sealed {
	t.Helper()
	ct := make([]byte, 40)
	_, _ = rand.Read(ct) // crypto/rand.Read never fails (Go 1.24+)
	ct[3], ct[17] = 0x00, 0xff
	return credential.Sealed{KeyID: keyID, Ciphertext: ct}
}

func mustNickname(t *testing.T, s string) credential.Nickname {
	t.Helper()
	n, err := credential.ParseNickname(s)
	require.NoError(t, err)
	return n
}

func ptr[T any](v T) *T { return &v }
