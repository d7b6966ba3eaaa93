package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// validate and account-data share one budget per user: past it, the user gets
// ErrRateLimited with the budget's retry-after, and the broker is not asked.
func TestBrokerCallsSpendTheOwnersBudget(t *testing.T) {
	f := newFixture(t)
	f.budget.Limit(2, 1500*time.Millisecond)
	validate := query.NewValidateCredentialHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget)
	data := query.NewAccountDataHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget, f.clock)
	alice := f.store.SignIn(f.alice)
	c := f.add(t, "AKGOOD", "good-secret", "paper")

	_, err := validate.Handle(context.Background(), query.ValidateCredential{Session: alice, CredentialID: c.ID().String()})
	require.NoError(t, err)
	_, err = data.Handle(context.Background(), query.AccountData{Session: alice, CredentialID: c.ID().String()})
	require.NoError(t, err)
	require.Len(t, f.broker.Calls, 2)
	opens := f.cipher.Opens()

	_, err = validate.Handle(context.Background(), query.ValidateCredential{Session: alice, CredentialID: c.ID().String()})
	var limited *ports.RateLimitedError
	require.ErrorAs(t, err, &limited)
	require.ErrorIs(t, err, ports.ErrRateLimited)
	require.Equal(t, 1500*time.Millisecond, limited.RetryAfter)
	_, err = data.Handle(context.Background(), query.AccountData{Session: alice, CredentialID: c.ID().String()})
	require.ErrorIs(t, err, ports.ErrRateLimited)
	require.Len(t, f.broker.Calls, 2, "a user past the budget never reaches the broker")
	require.Equal(t, 2, f.budget.Refused(f.alice))
	require.Equal(t, opens, f.cipher.Opens(), "a refused call never has its key pair opened")

	bob := f.store.SignIn(f.bob)
	bobAccount, err := command.NewCreateAccountHandler(f.store.Accounts(), f.clock).Handle(context.Background(), command.CreateAccount{Session: bob, Name: "B"})
	require.NoError(t, err)
	bobs, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(), command.StoreCredential{
		Session: bob, AccountID: bobAccount.ID().String(), CredentialType: "alpaca", APIKey: "AKGOOD", SecretKey: "good-secret",
	})
	require.NoError(t, err)
	v, err := validate.Handle(context.Background(), query.ValidateCredential{Session: bob, CredentialID: bobs.ID().String()})
	require.NoError(t, err, "another user's budget is untouched")
	require.True(t, v.Valid)
	require.Len(t, f.broker.Calls, 3)
	require.Equal(t, 1, f.budget.Spent(f.bob))
}
