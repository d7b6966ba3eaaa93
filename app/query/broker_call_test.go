package query_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// trailOf is the credential's trail as action/outcome pairs, newest first.
func (f *fixture) trailOf(t *testing.T, id domain.ID) []string {
	t.Helper()
	events, _, err := f.store.Trail().Events(context.Background(), f.store.SignIn(f.alice), id, credential.EventPage{Size: 50})
	require.NoError(t, err)
	var out []string
	for _, e := range events {
		out = append(out, e.Action.String()+" "+e.Outcome.String())
	}
	return out
}

func (f *fixture) handlers() (query.ValidateCredentialHandler, query.AccountDataHandler) {
	return query.NewValidateCredentialHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget),
		query.NewAccountDataHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget, f.clock)
}

// Every broker call is in the trail with how it ended, in the request it came from.
func TestBrokerCallsAreRecordedWithTheirOutcome(t *testing.T) {
	f := newFixture(t)
	good := f.add(t, "AKGOOD", "good-secret", "")
	validate, data := f.handlers()
	ctx := ports.WithRequestID(context.Background(), "req-1")
	as := func() user.Session { return f.store.SignIn(f.alice) }

	v, err := validate.Handle(ctx, query.ValidateCredential{Session: as(), CredentialID: good.ID().String()})
	require.NoError(t, err)
	require.True(t, v.Valid)
	_, err = data.Handle(ctx, query.AccountData{Session: as(), CredentialID: good.ID().String()})
	require.NoError(t, err)
	f.broker.Fail = ports.ErrBrokerRejected
	v, err = validate.Handle(ctx, query.ValidateCredential{Session: as(), CredentialID: good.ID().String()})
	require.NoError(t, err)
	require.False(t, v.Valid)
	f.broker.Fail = &ports.BrokerBusyError{RetryAfter: 1}
	_, err = data.Handle(ctx, query.AccountData{Session: as(), CredentialID: good.ID().String()})
	require.ErrorIs(t, err, ports.ErrBrokerRateLimited)
	f.broker.Fail = ports.ErrBrokerFailed
	_, err = validate.Handle(ctx, query.ValidateCredential{Session: as(), CredentialID: good.ID().String()})
	require.ErrorIs(t, err, ports.ErrBrokerFailed)

	require.Equal(t, []string{
		"validated failed", "account_data_read failed", "validated rejected", "account_data_read ok", "validated ok", "stored ok",
	}, f.trailOf(t, good.ID()))
	events, _, err := f.store.Trail().Events(ctx, as(), good.ID(), credential.EventPage{Size: 1})
	require.NoError(t, err)
	require.Equal(t, "req-1", events[0].RequestID)
}

// A value that does not open is recorded, and the broker is never asked.
func TestAFailedOpenIsRecorded(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	f.cipher.Forget("k1")
	validate, _ := f.handlers()

	_, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, ports.ErrUndecryptable)
	require.Empty(t, f.broker.Calls)
	require.Equal(t, []string{"open_failed failed", "stored ok"}, f.trailOf(t, c.ID()))
}

// An impersonating admin may not use the key pair: refused before the budget and before
// anything is opened, and the refusal is in the trail with the admin's id.
func TestAnImpersonatingAdminCannotCallTheBroker(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	admin, _ := user.ParseID("admin")
	validate, data := f.handlers()
	opens := f.cipher.Opens()

	_, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.Impersonate(f.alice, admin), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, user.ErrImpersonated)
	_, err = data.Handle(context.Background(), query.AccountData{Session: f.store.Impersonate(f.alice, admin), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, user.ErrImpersonated)

	require.Empty(t, f.broker.Calls)
	require.Equal(t, opens, f.cipher.Opens(), "nothing was decrypted")
	require.Equal(t, []string{"account_data_read refused", "validated refused", "stored ok"}, f.trailOf(t, c.ID()))
	events, _, err := f.store.Trail().Events(context.Background(), f.store.SignIn(f.alice), c.ID(), credential.EventPage{Size: 2})
	require.NoError(t, err)
	for _, e := range events {
		require.Equal(t, admin, e.ImpersonatedBy)
	}
}

// What is never a use of the key pair is not in the trail: a spent budget, an inactive
// credential, someone else's.
func TestRefusalsBeforeAnyUseRecordNothing(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	f.budget.Limit(0, 1)
	validate, _ := f.handlers()

	_, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, ports.ErrRateLimited)
	_, err = validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.bob), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.Equal(t, []string{"stored ok"}, f.trailOf(t, c.ID()))
}

// The trail cannot be skipped: when the event cannot be written, the caller gets the
// failure, not the broker's answer.
func TestAnUnrecordedCallFails(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	broken := errors.New("trail down")
	data := query.NewAccountDataHandler(f.store.Credentials(), failingTrail{broken}, f.cipher, f.broker, f.budget, f.clock)
	validate := query.NewValidateCredentialHandler(f.store.Credentials(), failingTrail{broken}, f.cipher, f.broker, f.budget)

	_, err := data.Handle(context.Background(), query.AccountData{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, broken)
	f.broker.Fail = ports.ErrBrokerRejected
	v, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, broken, "not is_valid: false")
	require.False(t, v.Valid)
}

type failingTrail struct{ err error }

func (f failingTrail) Record(context.Context, user.Session, credential.Credential, credential.Action, credential.Outcome) error {
	return f.err
}

func (f failingTrail) Events(context.Context, user.Session, domain.ID, credential.EventPage) ([]credential.Event, bool, error) {
	return nil, false, f.err
}
