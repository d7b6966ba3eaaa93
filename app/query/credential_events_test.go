package query_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain"
)

func TestCredentialEventsPagesNewestFirst(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	validate, _ := f.handlers()
	for range 2 {
		_, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
		require.NoError(t, err)
	}
	require.NoError(t, command.NewDeleteCredentialHandler(f.store.Credentials()).Handle(context.Background(),
		command.DeleteCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()}))
	events := query.NewCredentialEventsHandler(f.store.Trail())
	two := 2

	first, err := events.Handle(context.Background(), query.CredentialEvents{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String(), Limit: &two})
	require.NoError(t, err)
	require.True(t, first.More)
	require.Equal(t, "deleted", first.Events[0].Action.String(), "the trail of a deleted credential is still its owner's")
	rest, err := events.Handle(context.Background(), query.CredentialEvents{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String(),
		Limit: &two, Before: first.Events[1].ID.String()})
	require.NoError(t, err)
	require.False(t, rest.More)
	require.Equal(t, []string{"validated", "stored"}, []string{rest.Events[0].Action.String(), rest.Events[1].Action.String()})

	_, err = events.Handle(context.Background(), query.CredentialEvents{Session: f.store.SignIn(f.bob), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = events.Handle(context.Background(), query.CredentialEvents{Session: f.store.SignIn(f.alice), CredentialID: "not-an-id"})
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func TestCredentialEventsRefusesBadLimitsAndBefores(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	events := query.NewCredentialEventsHandler(f.store.Trail())
	zero, tooMany, most := 0, 201, 200
	for name, tc := range map[string]struct {
		q     query.CredentialEvents
		field string
	}{
		"limit 0":         {query.CredentialEvents{Limit: &zero}, "limit"},
		"limit 201":       {query.CredentialEvents{Limit: &tooMany}, "limit"},
		"before garbage":  {query.CredentialEvents{Before: "garbage"}, "before"},
		"before nil uuid": {query.CredentialEvents{Before: "00000000-0000-0000-0000-000000000000"}, "before"},
	} {
		tc.q.Session, tc.q.CredentialID = f.store.SignIn(f.alice), c.ID().String()
		_, err := events.Handle(context.Background(), tc.q)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, name)
		require.Equal(t, tc.field, verr.Field, name)
	}
	_, err := events.Handle(context.Background(), query.CredentialEvents{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String(), Limit: &most})
	require.NoError(t, err)
}
