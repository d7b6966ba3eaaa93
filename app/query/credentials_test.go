package query_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/stretchr/testify/require"
)

var start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

type fixture struct {
	store     *memory.Store
	cipher    *apptest.Cipher
	broker    *apptest.Broker
	budget    *apptest.BrokerBudget
	clock     *apptest.Clock
	alice     user.ID
	bob       user.ID
	accountID domain.ID
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	alice, _ := user.ParseID("alice")
	bob, _ := user.ParseID("bob")
	f := &fixture{store: memory.NewStore(), cipher: apptest.NewCipher("k1"), clock: apptest.NewClock(start),
		broker: apptest.NewBroker(map[string]string{"AKGOOD": "good-secret"}), budget: apptest.NewBrokerBudget(1000, time.Second),
		alice: alice, bob: bob}
	acc, err := command.NewCreateAccountHandler(f.store.Accounts(), f.clock).Handle(context.Background(), command.CreateAccount{Session: f.store.SignIn(alice), Name: "A"})
	require.NoError(t, err)
	f.accountID = acc.ID()
	return f
}

func (f *fixture) add(t *testing.T, key, secret, env string) credential.Credential {
	t.Helper()
	c, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(), command.StoreCredential{
		Session: f.store.SignIn(f.alice), AccountID: f.accountID.String(), CredentialType: "alpaca", Environment: env, APIKey: key, SecretKey: secret,
	})
	require.NoError(t, err)
	f.clock.Advance(time.Millisecond)
	return c
}

func TestListCredentialsNewestFirstAndOnlyOwn(t *testing.T) {
	f := newFixture(t)
	first := f.add(t, "AK1", "S1", "")
	second := f.add(t, "AK2", "S2", "live")
	list := query.NewListCredentialsHandler(f.store.Credentials())

	got, err := list.Handle(context.Background(), query.ListCredentials{Session: f.store.SignIn(f.alice), AccountID: f.accountID.String()})
	require.NoError(t, err)
	require.Equal(t, []domain.ID{second.ID(), first.ID()}, []domain.ID{got.Credentials[0].ID(), got.Credentials[1].ID()})
	require.True(t, got.Next.IsZero(), "one page holds them all")

	got, err = list.Handle(context.Background(), query.ListCredentials{Session: f.store.SignIn(f.bob), AccountID: f.accountID.String()})
	require.NoError(t, err)
	require.Empty(t, got.Credentials, "bob sees nothing under alice's account")

	_, err = list.Handle(context.Background(), query.ListCredentials{Session: f.store.SignIn(f.alice), AccountID: "bad"})
	var verr *domain.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "account_id", verr.Field)
}

// Pages of two walk every credential exactly once, newest first, and the last page says so.
func TestListCredentialsPages(t *testing.T) {
	f := newFixture(t)
	var stored []domain.ID
	for i := range 5 {
		stored = append([]domain.ID{f.add(t, fmt.Sprintf("AK%d", i), "S", "").ID()}, stored...) // newest first
	}
	list := query.NewListCredentialsHandler(f.store.Credentials())
	two := 2
	var seen []domain.ID
	cursor := ""
	for pages := 1; ; pages++ {
		got, err := list.Handle(context.Background(), query.ListCredentials{Session: f.store.SignIn(f.alice),
			AccountID: f.accountID.String(), Limit: &two, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(got.Credentials), 2)
		for _, c := range got.Credentials {
			seen = append(seen, c.ID())
		}
		if got.Next.IsZero() {
			require.Equal(t, 3, pages)
			break
		}
		cursor = got.Next.String()
	}
	require.Equal(t, stored, seen)
}

func TestListCredentialsRefusesBadLimitsAndCursors(t *testing.T) {
	f := newFixture(t)
	list := query.NewListCredentialsHandler(f.store.Credentials())
	zero, tooMany := 0, 201
	for name, q := range map[string]query.ListCredentials{
		"limit 0":    {Limit: &zero},
		"limit 201":  {Limit: &tooMany},
		"bad cursor": {Cursor: "garbage"},
	} {
		q.Session, q.AccountID = f.store.SignIn(f.alice), f.accountID.String()
		_, err := list.Handle(context.Background(), q)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, name)
	}
}

func TestValidateCredential(t *testing.T) {
	f := newFixture(t)
	validate := query.NewValidateCredentialHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget)

	good := f.add(t, "AKGOOD", "good-secret", "live")
	v, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: good.ID().String()})
	require.NoError(t, err)
	require.True(t, v.Valid)
	require.Equal(t, &credential.Live, v.Environment)
	require.Equal(t, apptest.BrokerCall{Env: credential.Live, APIKey: "AKGOOD", SecretKey: "good-secret"}, f.broker.Calls[0],
		"the broker gets the decrypted pair for the credential's environment")

	bad := f.add(t, "AKBAD", "wrong", "")
	v, err = validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: bad.ID().String()})
	require.NoError(t, err, "a rejected key is an answer, not an error")
	require.False(t, v.Valid)
	require.Nil(t, v.Environment)

	f.broker.Fail = ports.ErrBrokerFailed
	_, err = validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: good.ID().String()})
	require.ErrorIs(t, err, ports.ErrBrokerFailed)
}

func TestValidateCredentialRefusals(t *testing.T) {
	f := newFixture(t)
	validate := query.NewValidateCredentialHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget)
	c := f.add(t, "AKGOOD", "good-secret", "")

	_, err := validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.bob), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: "garbage"})
	require.ErrorIs(t, err, domain.ErrNotFound)

	off := false
	_, err = command.NewUpdateCredentialHandler(f.store.Credentials(), f.cipher, f.clock).Handle(context.Background(),
		command.UpdateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String(), Active: &off})
	require.NoError(t, err)
	_, err = validate.Handle(context.Background(), query.ValidateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, credential.ErrInactive)
	require.Empty(t, f.broker.Calls, "no refused request reached the broker")
	require.Zero(t, f.budget.Spent(f.alice)+f.budget.Spent(f.bob), "and none spent a broker call")
}

func TestUndecryptableCredentialFailsClosed(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "")
	f.cipher.Forget("k1")

	_, err := query.NewAccountDataHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget, f.clock).Handle(context.Background(),
		query.AccountData{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, ports.ErrUndecryptable)
	require.Contains(t, err.Error(), c.ID().String(), "the log line names the credential")
	require.Empty(t, f.broker.Calls)
}

func TestAccountData(t *testing.T) {
	f := newFixture(t)
	c := f.add(t, "AKGOOD", "good-secret", "paper")
	data := query.NewAccountDataHandler(f.store.Credentials(), f.store.Trail(), f.cipher, f.broker, f.budget, f.clock)

	got, err := data.Handle(context.Background(), query.AccountData{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.NoError(t, err)
	require.Equal(t, credential.Paper, got.Environment)
	require.Equal(t, apptest.Account, got.Account)
	require.Equal(t, f.clock.Now().UTC(), got.RetrievedAt)

	bad := f.add(t, "AKBAD", "nope", "")
	_, err = data.Handle(context.Background(), query.AccountData{Session: f.store.SignIn(f.alice), CredentialID: bad.ID().String()})
	require.ErrorIs(t, err, ports.ErrBrokerRejected)
}
