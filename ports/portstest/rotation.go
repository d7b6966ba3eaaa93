package portstest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// RunRotationStoreContract checks ports.RotationStore: it finds every user's values that are
// not under the primary key, page by page in id order, and re-seals a row only if the row
// still holds what was read, so a user's update made in between always wins.
func RunRotationStoreContract(t *testing.T, newFixture Fixture) {
	t.Run("StaleIsEveryUsersValuesNotUnderThePrimaryInIDOrder", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alices, bobs := s.account(t, alice), s.account(t, bob)

		var stale []ports.SealedPair
		for _, acc := range []account.Account{alices, bobs} {
			for _, keys := range [][2]string{{"k1", "k1"}, {"k2", "k2"}, {"k1", "k2"}, {"k2", "k1"}} {
				c := s.addSealed(t, acc, keys[0], keys[1])
				if keys != [2]string{"k2", "k2"} {
					stale = append(stale, pairOf(c))
				}
			}
		}
		slices.SortFunc(stale, func(a, b ports.SealedPair) int { return a.CredentialID.Compare(b.CredentialID) })

		require.Equal(t, stale, s.stale(t, "k2", domain.ID{}, 100))
		require.Len(t, s.stale(t, "k3", domain.ID{}, 100), 8, "under a new primary, everything is stale")
	})

	t.Run("CountStaleCountsEveryUsersCredentialsNotUnderThePrimary", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		require.Zero(t, s.countStale(t, "k2"), "an empty store has nothing to rotate")
		alice, bob := s.member(t), s.member(t)
		alices, bobs := s.account(t, alice), s.account(t, bob)
		for _, acc := range []account.Account{alices, bobs} {
			for _, keys := range [][2]string{{"k1", "k1"}, {"k2", "k2"}, {"k1", "k2"}, {"k2", "k1"}} {
				s.addSealed(t, acc, keys[0], keys[1])
			}
		}
		require.Equal(t, 6, s.countStale(t, "k2"), "a credential with either value elsewhere counts once")
		require.Equal(t, len(s.stale(t, "k2", domain.ID{}, 100)), s.countStale(t, "k2"), "what Stale lists")
		require.Equal(t, 8, s.countStale(t, "k3"))

		old := s.stale(t, "k2", domain.ID{}, 1)[0]
		resealed := old
		resealed.APIKey, resealed.SecretKey = randomSealed(t, "k2"), randomSealed(t, "k2")
		require.True(t, s.reseal(t, old, resealed))
		require.Equal(t, 5, s.countStale(t, "k2"), "a resealed credential is done")
	})

	t.Run("SealedByKeyCountsEveryValueOfEveryUser", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		require.Empty(t, s.sealedByKey(t))
		alice, bob := s.member(t), s.member(t)
		alices, bobs := s.account(t, alice), s.account(t, bob)
		s.addSealed(t, alices, "k1", "k1")
		s.addSealed(t, alices, "k1", "k2")
		s.addSealed(t, bobs, "k2", "gone")
		require.Equal(t, map[string]int{"k1": 3, "k2": 2, "gone": 1}, s.sealedByKey(t))

		c := s.addSealed(t, bobs, "k1", "k1")
		require.NoError(t, s.deleteCredential(t, bob, c.ID()))
		require.Equal(t, map[string]int{"k1": 3, "k2": 2, "gone": 1}, s.sealedByKey(t), "a deleted credential seals nothing")
	})

	t.Run("StalePaginatesAfterTheLastID", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		alices, bobs := s.account(t, alice), s.account(t, bob)
		var want []ports.SealedPair
		for i := range 5 {
			acc := []account.Account{alices, bobs}[i%2]
			want = append(want, pairOf(s.addSealed(t, acc, "k1", "k1")))
			s.addSealed(t, acc, "k2", "k2") // current: never listed
		}
		slices.SortFunc(want, func(a, b ports.SealedPair) int { return a.CredentialID.Compare(b.CredentialID) })

		var got []ports.SealedPair
		var after domain.ID
		pages := 0
		for {
			page := s.stale(t, "k2", after, 2)
			if len(page) == 0 {
				break
			}
			require.LessOrEqual(t, len(page), 2)
			got = append(got, page...)
			after = page[len(page)-1].CredentialID
			pages++
			require.LessOrEqual(t, pages, 3, "pagination terminates")
		}
		require.Equal(t, 3, pages)
		require.Equal(t, want, got)
	})

	t.Run("ResealSwapsOnce", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		alice := s.member(t)
		c := s.addSealed(t, s.account(t, alice), "k1", "k1")
		old := s.only(t, s.stale(t, "k2", domain.ID{}, 10))
		require.Equal(t, pairOf(c), old)

		resealed := old
		resealed.APIKey, resealed.SecretKey = randomSealed(t, "k2"), randomSealed(t, "k2")
		require.True(t, s.reseal(t, old, resealed))

		want := c
		want.Reseal(resealed.APIKey, resealed.SecretKey)
		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, want, got, "only the sealed values changed; updatedAt too stays")
		require.Empty(t, s.stale(t, "k2", domain.ID{}, 10))

		again := old
		again.APIKey, again.SecretKey = randomSealed(t, "k2"), randomSealed(t, "k2")
		require.False(t, s.reseal(t, old, again), "the row no longer holds old")
		got, err = s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, want, got, "the first reseal stands")
	})

	t.Run("ResealLosesToAConcurrentUpdate", func(t *testing.T) {
		// The user re-enters the keys between the rotator's read and its write, through an
		// instance already sealing under the new primary, or one still on the old key (a
		// rolling deploy): the second differs from what was read only in the ciphertexts.
		for _, updateKeyID := range []string{"k2", "k1"} {
			t.Run("SealedUnder_"+updateKeyID, func(t *testing.T) {
				s := newRotationSuite(t, newFixture)
				alice := s.member(t)
				c := s.addSealed(t, s.account(t, alice), "k1", "k1")
				old := s.only(t, s.stale(t, "k2", domain.ID{}, 10))

				apiKey, secretKey := randomSealed(t, updateKeyID), randomSealed(t, updateKeyID)
				updated, err := s.updateCredential(t, alice, c.ID(), func(c *credential.Credential) error {
					return c.Apply(credential.Change{APIKey: &apiKey, SecretKey: &secretKey}, time.Now())
				})
				require.NoError(t, err)

				resealed := old
				resealed.APIKey, resealed.SecretKey = randomSealed(t, "k2"), randomSealed(t, "k2")
				require.False(t, s.reseal(t, old, resealed))
				got, err := s.getCredential(t, alice, c.ID())
				require.NoError(t, err)
				require.Equal(t, updated, got, "the user's update is in place")
			})
		}
	})

	t.Run("ResealKeepsWhatTheUserChangedElsewhere", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		alice := s.member(t)
		c := s.addSealed(t, s.account(t, alice), "k1", "k2")
		old := s.only(t, s.stale(t, "k2", domain.ID{}, 10))

		renamed, err := s.updateCredential(t, alice, c.ID(), rename("Renamed meanwhile"))
		require.NoError(t, err)

		resealed := old
		resealed.APIKey = randomSealed(t, "k2")
		require.True(t, s.reseal(t, old, resealed), "the sealed values did not change, so the swap goes ahead")
		want := renamed
		want.Reseal(resealed.APIKey, resealed.SecretKey)
		got, err := s.getCredential(t, alice, c.ID())
		require.NoError(t, err)
		require.Equal(t, want, got, "the rename survives the reseal")
	})

	t.Run("ResealOfADeletedCredentialIsFalse", func(t *testing.T) {
		s := newRotationSuite(t, newFixture)
		alice := s.member(t)
		c := s.addSealed(t, s.account(t, alice), "k1", "k1")
		old := s.only(t, s.stale(t, "k2", domain.ID{}, 10))
		require.NoError(t, s.deleteCredential(t, alice, c.ID()))

		resealed := old
		resealed.APIKey, resealed.SecretKey = randomSealed(t, "k2"), randomSealed(t, "k2")
		require.False(t, s.reseal(t, old, resealed))
		_, err := s.getCredential(t, alice, c.ID())
		require.ErrorIs(t, err, domain.ErrNotFound, "nothing came back to life")
	})
}

type rotationSuite struct {
	*suite
	members map[user.ID]member
}

func newRotationSuite(t *testing.T, newFixture Fixture) *rotationSuite {
	t.Helper()
	return &rotationSuite{suite: newSuite(t, newFixture), members: map[user.ID]member{}}
}

// member signs a user in and remembers the session, so credentials can be added for an
// account's owner.
func (s *rotationSuite) member(t *testing.T) member {
	t.Helper()
	m := s.suite.member(t)
	s.members[m.id] = m
	return m
}

// addSealed stores a credential whose values are sealed under the given key ids.
func (s *rotationSuite) addSealed(t *testing.T, acc account.Account, apiKeyID, secretKeyID string) credential.Credential {
	t.Helper()
	draft, err := credential.NewDraft(acc.ID(), acc.Owner(), credential.Alpaca, credential.Paper, nil, time.Now())
	require.NoError(t, err)
	c, err := credential.New(draft, randomSealed(t, apiKeyID), randomSealed(t, secretKeyID))
	require.NoError(t, err)
	s.addCredential(t, s.members[acc.Owner()], c)
	return c
}

func (s *rotationSuite) stale(t *testing.T, primary string, after domain.ID, limit int) []ports.SealedPair {
	t.Helper()
	out, err := s.Rotation.Stale(s.ctx, primary, after, limit)
	require.NoError(t, err)
	return out
}

func (s *rotationSuite) countStale(t *testing.T, primary string) int {
	t.Helper()
	n, err := s.Rotation.CountStale(s.ctx, primary)
	require.NoError(t, err)
	return n
}

func (s *rotationSuite) sealedByKey(t *testing.T) map[string]int {
	t.Helper()
	out, err := s.Rotation.SealedByKey(s.ctx)
	require.NoError(t, err)
	return out
}

func (s *rotationSuite) reseal(t *testing.T, old, resealed ports.SealedPair) bool {
	t.Helper()
	ok, err := s.Rotation.Reseal(s.ctx, old, resealed)
	require.NoError(t, err)
	return ok
}

func (s *rotationSuite) only(t *testing.T, pairs []ports.SealedPair) ports.SealedPair {
	t.Helper()
	require.Len(t, pairs, 1)
	return pairs[0]
}

func pairOf(c credential.Credential) ports.SealedPair {
	return ports.SealedPair{CredentialID: c.ID(), Owner: c.Owner(), APIKey: c.APIKey(), SecretKey: c.SecretKey()}
}
