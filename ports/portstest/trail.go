package portstest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// RunCredentialTrailContract checks the audit trail (ports.CredentialTrail, and the events
// ports.CredentialRepository and ports.RotationStore write): every change and use is one
// event, with its request id and the impersonating admin; a change that fails records
// nothing; the trail outlives the credential but is its owner's alone; and an impersonated
// session reads everything but changes nothing, each refusal recorded.
func RunCredentialTrailContract(t *testing.T, newFixture Fixture) {
	t.Run("EveryChangeAndUseIsOneEventNewestFirst", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		c := s.newCredential(t, acc, "Main", time.Now())
		start := time.Now().Add(-time.Minute) // the store's clock may be the database's

		_, err := s.Credentials.Add(ports.WithRequestID(s.ctx, "req-store"), alice.session, acc.ID(), roomy, built(c))
		require.NoError(t, err)
		_, err = s.Credentials.Update(ports.WithRequestID(s.ctx, "req-update"), alice.session, c.ID(), rename("Renamed"))
		require.NoError(t, err)
		require.NoError(t, s.Trail.Record(ports.WithRequestID(s.ctx, "req-validate"), alice.session, c, credential.Validated, credential.OK))
		require.NoError(t, s.Trail.Record(ports.WithRequestID(s.ctx, "req-data"), alice.session, c, credential.AccountDataRead, credential.Rejected))
		require.NoError(t, s.Trail.Record(s.ctx, alice.session, c, credential.OpenFailed, credential.Failed))
		require.NoError(t, s.Credentials.Delete(ports.WithRequestID(s.ctx, "req-delete"), alice.session, c.ID()))

		events := s.events(t, alice, c.ID())
		type entry struct{ action, outcome, request string }
		var got []entry
		for i, e := range events {
			got = append(got, entry{e.Action.String(), e.Outcome.String(), e.RequestID})
			require.Equal(t, c.ID(), e.CredentialID)
			require.Equal(t, acc.ID(), e.AccountID)
			require.Equal(t, alice.id, e.Owner)
			require.True(t, e.ImpersonatedBy.IsZero(), "alice acted as herself")
			require.False(t, e.ID.IsZero())
			require.True(t, e.At.After(start), "event %d has its time", i)
			if i > 0 {
				require.False(t, e.At.After(events[i-1].At), "newest first")
			}
		}
		require.Equal(t, []entry{
			{"deleted", "ok", "req-delete"},
			{"open_failed", "failed", ""},
			{"account_data_read", "rejected", "req-data"},
			{"validated", "ok", "req-validate"},
			{"updated", "ok", "req-update"},
			{"stored", "ok", "req-store"},
		}, got, "the owner still sees the trail of a credential they deleted")
	})

	t.Run("TheTrailIsTheOwnersAlone", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		c := s.newCredential(t, s.account(t, alice), "Alice's", time.Now())
		s.addCredential(t, alice, c)
		s.account(t, bob)

		_, _, err := s.Trail.Events(s.ctx, bob.session, c.ID(), firstEventPage)
		require.ErrorIs(t, err, domain.ErrNotFound, "another user's credential has no trail for Bob")
		_, _, err = s.Trail.Events(s.ctx, alice.session, domain.NewID(time.Now()), firstEventPage)
		require.ErrorIs(t, err, domain.ErrNotFound, "an id that never was has none either")
		require.Error(t, s.Trail.Record(s.ctx, bob.session, c, credential.Validated, credential.OK),
			"Bob cannot write into Alice's trail")

		require.NoError(t, s.Credentials.Delete(s.ctx, alice.session, c.ID()))
		_, _, err = s.Trail.Events(s.ctx, bob.session, c.ID(), firstEventPage)
		require.ErrorIs(t, err, domain.ErrNotFound, "nor once it is deleted")
		require.Len(t, s.events(t, alice, c.ID()), 2)
	})

	t.Run("AFailedChangeRecordsNothing", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		acc := s.account(t, alice)
		c := s.newCredential(t, acc, "Main", time.Now())
		s.addCredential(t, alice, c)

		_, err := s.Credentials.Update(s.ctx, alice.session, c.ID(), func(*credential.Credential) error { return errors.New("no") })
		require.Error(t, err)
		_, err = s.Credentials.Add(s.ctx, alice.session, acc.ID(), 1, built(s.newCredential(t, acc, "Second", time.Now())))
		require.ErrorIs(t, err, credential.ErrLimitReached)
		require.ErrorIs(t, s.Credentials.Delete(s.ctx, alice.session, domain.NewID(time.Now())), domain.ErrNotFound)

		events := s.events(t, alice, c.ID())
		require.Len(t, events, 1)
		require.Equal(t, credential.Stored, events[0].Action)
	})

	t.Run("PagesWalkEveryEventOnceNewestFirst", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		c := s.newCredential(t, s.account(t, alice), "Main", time.Now())
		s.addCredential(t, alice, c)
		for i := range 6 {
			require.NoError(t, s.Trail.Record(ports.WithRequestID(s.ctx, fmt.Sprintf("r%d", i)), alice.session, c, credential.Validated, credential.OK))
		}
		all := s.events(t, alice, c.ID())
		require.Len(t, all, 7)

		var got []credential.Event
		page := credential.EventPage{Size: 3}
		for pages := 1; ; pages++ {
			events, more, err := s.Trail.Events(s.ctx, alice.session, c.ID(), page)
			require.NoError(t, err)
			got = append(got, events...)
			if !more {
				require.Equal(t, 3, pages)
				require.Len(t, events, 1)
				break
			}
			require.Len(t, events, 3, "a page with more after it is full")
			page.Before = events[len(events)-1].ID
		}
		require.Equal(t, all, got)

		exact, more, err := s.Trail.Events(s.ctx, alice.session, c.ID(), credential.EventPage{Size: 7})
		require.NoError(t, err)
		require.False(t, more)
		require.Len(t, exact, 7)
		past, more, err := s.Trail.Events(s.ctx, alice.session, c.ID(), credential.EventPage{Size: 3, Before: all[6].ID})
		require.NoError(t, err)
		require.False(t, more)
		require.Empty(t, past, "nothing is older than the first event")
		unknown, _, err := s.Trail.Events(s.ctx, alice.session, c.ID(), credential.EventPage{Size: 3, Before: domain.NewID(time.Now())})
		require.NoError(t, err)
		require.Empty(t, unknown, "a before that names no event of this credential continues nowhere")
	})

	t.Run("AnImpersonatedSessionReadsButChangesNothing", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice, bob := s.member(t), s.member(t)
		acc := s.account(t, alice)
		c := s.newCredential(t, acc, "Main", time.Now())
		s.addCredential(t, alice, c)
		bobs := s.account(t, bob)
		admin, imp := s.Impersonate(t, alice.id)
		ctx := ports.WithRequestID(s.ctx, "req-admin")

		require.Equal(t, []credential.Credential{c}, s.listCredentials(t, member{id: alice.id, session: imp}, acc.ID()), "the admin reads")
		got, err := s.Credentials.Get(ctx, imp, c.ID())
		require.NoError(t, err)
		require.Equal(t, c, got)
		actor, ok := imp.Actor()
		require.True(t, ok)
		require.Equal(t, user.Actor{User: alice.id, ImpersonatedBy: admin}, actor, "the store tells who acts")

		called := false
		_, err = s.Credentials.Add(ctx, imp, acc.ID(), roomy, func(user.ID) (credential.Credential, error) {
			called = true
			return s.newCredential(t, acc, "Admin's", time.Now()), nil
		})
		require.ErrorIs(t, err, user.ErrImpersonated)
		_, err = s.Credentials.Update(ctx, imp, c.ID(), func(c *credential.Credential) error {
			called = true
			return rename("pwned")(c)
		})
		require.ErrorIs(t, err, user.ErrImpersonated)
		require.ErrorIs(t, s.Credentials.Delete(ctx, imp, c.ID()), user.ErrImpersonated)
		require.False(t, called, "nothing is sealed or changed for an impersonating admin")

		// What the admin cannot see is not found, as for anyone.
		_, err = s.Credentials.Add(ctx, imp, bobs.ID(), roomy, built(c))
		require.ErrorIs(t, err, domain.ErrNotFound)
		_, err = s.Credentials.Update(ctx, imp, domain.NewID(time.Now()), rename("x"))
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.ErrorIs(t, s.Credentials.Delete(ctx, imp, domain.NewID(time.Now())), domain.ErrNotFound)

		require.Equal(t, []credential.Credential{c}, s.listCredentials(t, alice, acc.ID()), "nothing was stored, changed or deleted")
		require.NoError(t, s.Trail.Record(ctx, imp, c, credential.Validated, credential.Refused))

		events, _, err := s.Trail.Events(ctx, imp, c.ID(), firstEventPage)
		require.NoError(t, err, "the admin reads the trail too")
		require.Len(t, events, 4)
		for i, want := range []credential.Action{credential.Validated, credential.Deleted, credential.Updated} {
			require.Equal(t, want, events[i].Action)
			require.Equal(t, credential.Refused, events[i].Outcome)
			require.Equal(t, admin, events[i].ImpersonatedBy, "each refusal names the admin")
			require.Equal(t, "req-admin", events[i].RequestID)
			require.Equal(t, alice.id, events[i].Owner)
		}
		require.Equal(t, credential.Stored, events[3].Action)
		require.True(t, events[3].ImpersonatedBy.IsZero())
	})

	t.Run("RotationRecordsEachCredentialItTouches", func(t *testing.T) {
		s := newSuite(t, newFixture)
		alice := s.member(t)
		c := s.newCredential(t, s.account(t, alice), "Main", time.Now())
		s.addCredential(t, alice, c)
		ctx := ports.WithRequestID(s.ctx, "rotation-1")

		old := ports.SealedPair{CredentialID: c.ID(), Owner: alice.id, APIKey: c.APIKey(), SecretKey: c.SecretKey()}
		resealed := old
		resealed.APIKey, resealed.SecretKey = randomSealed(t, "k2"), randomSealed(t, "k2")
		swapped, err := s.Rotation.Reseal(ctx, old, resealed)
		require.NoError(t, err)
		require.True(t, swapped)
		swapped, err = s.Rotation.Reseal(ctx, old, resealed)
		require.NoError(t, err)
		require.False(t, swapped, "a lost swap records nothing")
		require.NoError(t, s.Rotation.OpenFailed(ctx, resealed))

		events := s.events(t, alice, c.ID())
		require.Len(t, events, 3)
		require.Equal(t, []string{"open_failed failed", "rotated ok"},
			[]string{events[0].Action.String() + " " + events[0].Outcome.String(), events[1].Action.String() + " " + events[1].Outcome.String()})
		for _, e := range events[:2] {
			require.Equal(t, "rotation-1", e.RequestID)
			require.Equal(t, alice.id, e.Owner)
			require.Equal(t, c.AccountID(), e.AccountID)
		}
	})
}

var firstEventPage = credential.EventPage{Size: credential.MaxEventPageSize}

// events is every event of the credential, newest first, in one page.
func (s *suite) events(t *testing.T, m member, id domain.ID) []credential.Event {
	t.Helper()
	events, more, err := s.Trail.Events(s.ctx, m.session, id, firstEventPage)
	require.NoError(t, err)
	require.False(t, more)
	return events
}
