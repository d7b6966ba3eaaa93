package command_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/stretchr/testify/require"
)

type credentialFixture struct {
	store  *memory.Store
	cipher *apptest.Cipher
	clock  *apptest.Clock
	alice  user.ID
	bob    user.ID
	// accounts of alice and bob
	aliceAccount, bobAccount account.Account
}

func newCredentialFixture(t *testing.T) *credentialFixture {
	t.Helper()
	f := &credentialFixture{
		store: memory.NewStore(), cipher: apptest.NewCipher("k1"), clock: apptest.NewClock(start),
		alice: mustUser(t, "alice"), bob: mustUser(t, "bob"),
	}
	create := command.NewCreateAccountHandler(f.store.Accounts(), f.clock)
	var err error
	f.aliceAccount, err = create.Handle(context.Background(), command.CreateAccount{Session: f.store.SignIn(f.alice), Name: "A"})
	require.NoError(t, err)
	f.bobAccount, err = create.Handle(context.Background(), command.CreateAccount{Session: f.store.SignIn(f.bob), Name: "B"})
	require.NoError(t, err)
	return f
}

func (f *credentialFixture) storeCredential(t *testing.T, actor user.ID, accountID domain.ID, apiKey string) credential.Credential {
	t.Helper()
	c, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(), command.StoreCredential{
		Session: f.store.SignIn(actor), AccountID: accountID.String(), CredentialType: "alpaca", APIKey: apiKey, SecretKey: "secret-" + apiKey,
	})
	require.NoError(t, err)
	f.clock.Advance(1000)
	return c
}

func (f *credentialFixture) get(t *testing.T, actor user.ID, id domain.ID) (credential.Credential, error) {
	t.Helper()
	return f.store.Credentials().Get(context.Background(), f.store.SignIn(actor), id)
}

func (f *credentialFixture) open(t *testing.T, c credential.Credential, field credential.Field) string {
	t.Helper()
	sealed := c.APIKey()
	if field == credential.FieldSecretKey {
		sealed = c.SecretKey()
	}
	p, err := f.cipher.Open(sealed, ports.Binding{CredentialID: c.ID(), Owner: c.Owner(), Field: field})
	require.NoError(t, err)
	return p.Reveal()
}

func TestStoreCredentialSealsBothValuesWithDefaults(t *testing.T) {
	f := newCredentialFixture(t)
	c := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AKALICE")

	require.Equal(t, "alpaca", c.Nickname().String(), "nickname defaults to the credential type")
	require.Equal(t, credential.Paper, c.Environment(), "environment defaults to paper")
	require.True(t, c.Active())
	require.Equal(t, f.aliceAccount.ID(), c.AccountID())
	require.Equal(t, "k1", c.APIKey().KeyID)
	require.Equal(t, "AKALICE", f.open(t, c, credential.FieldAPIKey))
	require.Equal(t, "secret-AKALICE", f.open(t, c, credential.FieldSecretKey))

	stored, err := f.get(t, f.alice, c.ID())
	require.NoError(t, err)
	require.Equal(t, c, stored)
}

func TestStoreCredentialUnderAnotherUsersAccountIsNotFound(t *testing.T) {
	f := newCredentialFixture(t)
	_, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(), command.StoreCredential{
		Session: f.store.SignIn(f.bob), AccountID: f.aliceAccount.ID().String(), CredentialType: "alpaca", APIKey: "K", SecretKey: "S",
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// The nil UUID is well formed but names no account: not found, never an internal error.
func TestStoreCredentialUnderTheNilUUIDIsNotFound(t *testing.T) {
	f := newCredentialFixture(t)
	_, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(), command.StoreCredential{
		Session: f.store.SignIn(f.alice), AccountID: "00000000-0000-0000-0000-000000000000", CredentialType: "alpaca", APIKey: "K", SecretKey: "S",
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func TestStoreCredentialReportsEveryInvalidField(t *testing.T) {
	f := newCredentialFixture(t)
	empty := " "
	_, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(), command.StoreCredential{
		Session: f.store.SignIn(f.alice), AccountID: "nope", CredentialType: "binance", Environment: "sandbox", APIKey: "", SecretKey: "has space", Nickname: &empty,
	})
	var verrs domain.ValidationErrors
	require.ErrorAs(t, err, &verrs)
	var fields []string
	for _, v := range verrs {
		fields = append(fields, v.Field)
	}
	require.ElementsMatch(t, []string{"account_id", "credential_type", "environment", "api_key", "secret_key", "nickname"}, fields)
}

func TestUpdateCredential(t *testing.T) {
	f := newCredentialFixture(t)
	c := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AKOLD")
	update := command.NewUpdateCredentialHandler(f.store.Credentials(), f.cipher, f.clock)
	nick, key, inactive := "  My paper keys ", "AKNEW", false

	updated, err := update.Handle(context.Background(), command.UpdateCredential{
		Session: f.store.SignIn(f.alice), CredentialID: c.ID().String(), Nickname: &nick, APIKey: &key, Active: &inactive,
	})
	require.NoError(t, err)
	require.Equal(t, "My paper keys", updated.Nickname().String())
	require.False(t, updated.Active())
	require.Equal(t, "AKNEW", f.open(t, updated, credential.FieldAPIKey))
	require.Equal(t, "secret-AKOLD", f.open(t, updated, credential.FieldSecretKey), "secret unchanged")
	require.True(t, updated.UpdatedAt().After(c.UpdatedAt()))
	require.Equal(t, c.CreatedAt(), updated.CreatedAt())
}

func TestUpdateCredentialRefusals(t *testing.T) {
	f := newCredentialFixture(t)
	c := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AK")
	update := command.NewUpdateCredentialHandler(f.store.Credentials(), f.cipher, f.clock)
	nick := "stolen"

	_, err := update.Handle(context.Background(), command.UpdateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, credential.ErrEmptyChange)

	_, err = update.Handle(context.Background(), command.UpdateCredential{Session: f.store.SignIn(f.bob), CredentialID: c.ID().String(), Nickname: &nick})
	require.ErrorIs(t, err, domain.ErrNotFound, "another user's credential looks missing")

	_, err = update.Handle(context.Background(), command.UpdateCredential{Session: f.store.SignIn(f.alice), CredentialID: "not-a-uuid", Nickname: &nick})
	require.ErrorIs(t, err, domain.ErrNotFound)

	tooLong := strings.Repeat("x", 256)
	_, err = update.Handle(context.Background(), command.UpdateCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String(), Nickname: &tooLong})
	var verr *domain.ValidationError
	require.ErrorAs(t, err, &verr)

	unchanged, err := f.get(t, f.alice, c.ID())
	require.NoError(t, err)
	require.Equal(t, c, unchanged)
}

func TestDeleteCredential(t *testing.T) {
	f := newCredentialFixture(t)
	c := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AK")
	del := command.NewDeleteCredentialHandler(f.store.Credentials())

	require.ErrorIs(t, del.Handle(context.Background(), command.DeleteCredential{Session: f.store.SignIn(f.bob), CredentialID: c.ID().String()}), domain.ErrNotFound)
	_, err := f.get(t, f.alice, c.ID())
	require.NoError(t, err, "bob's attempt changed nothing")

	require.NoError(t, del.Handle(context.Background(), command.DeleteCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()}))
	_, err = f.get(t, f.alice, c.ID())
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, del.Handle(context.Background(), command.DeleteCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()}), domain.ErrNotFound)
}

func TestRotateCredentialKeys(t *testing.T) {
	f := newCredentialFixture(t)
	var ids []domain.ID
	for _, k := range []string{"AK1", "AK2", "AK3"} {
		ids = append(ids, f.storeCredential(t, f.alice, f.aliceAccount.ID(), k).ID())
	}
	ids = append(ids, f.storeCredential(t, f.bob, f.bobAccount.ID(), "BK1").ID())

	f.cipher.Rotate("k2")
	newer := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AK4")
	require.Equal(t, "k2", newer.APIKey().KeyID, "new values use the new primary key")
	old, err := f.get(t, f.alice, ids[0])
	require.NoError(t, err)
	require.Equal(t, "AK1", f.open(t, old, credential.FieldAPIKey), "old values stay readable")

	rotate := command.NewRotateCredentialKeysHandler(f.store, f.cipher)
	report, err := rotate.Handle(context.Background(), command.RotateCredentialKeys{BatchSize: 2})
	require.NoError(t, err)
	require.Equal(t, 4, report.Resealed)
	require.Empty(t, report.Failed)

	f.cipher.Forget("k1")
	for i, id := range ids {
		owner := f.alice
		if i == 3 {
			owner = f.bob
		}
		c, err := f.get(t, owner, id)
		require.NoError(t, err)
		require.Equal(t, "k2", c.APIKey().KeyID)
		require.Equal(t, "k2", c.SecretKey().KeyID)
		f.open(t, c, credential.FieldAPIKey)
	}

	again, err := rotate.Handle(context.Background(), command.RotateCredentialKeys{})
	require.NoError(t, err)
	require.Equal(t, command.RotationReport{}, again, "a second run has nothing to do")
}

func TestRotateCredentialKeysReportsRowsItCannotOpen(t *testing.T) {
	f := newCredentialFixture(t)
	c := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AK1")
	f.cipher.Forget("k1")
	f.cipher.Rotate("k2")

	report, err := command.NewRotateCredentialKeysHandler(f.store, f.cipher).Handle(context.Background(), command.RotateCredentialKeys{})
	require.NoError(t, err)
	require.Equal(t, []domain.ID{c.ID()}, report.Failed)
	require.Zero(t, report.Resealed)
}

// The run reports progress: once before the first row, then after each one, Done of the
// Total that was stale at the start; a row that turns stale during the run (an instance
// still sealing under the old key) raises the Total rather than overrunning it.
func TestRotateCredentialKeysReportsProgress(t *testing.T) {
	f := newCredentialFixture(t)
	for _, k := range []string{"AK1", "AK2", "AK3", "AK4", "AK5"} {
		f.storeCredential(t, f.alice, f.aliceAccount.ID(), k)
	}
	f.cipher.Rotate("k2")
	f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AK6") // already under k2: not stale

	lagging := command.NewStoreCredentialHandler(f.store.Credentials(), apptest.NewCipher("k1"), f.clock, credential.DefaultPerAccount)
	var seen []command.RotationProgress
	report, err := command.NewRotateCredentialKeysHandler(f.store, f.cipher).Handle(context.Background(), command.RotateCredentialKeys{
		BatchSize: 2,
		Progress: func(p command.RotationProgress) {
			seen = append(seen, p)
			if p.Done == 3 {
				f.clock.Advance(time.Second) // ids are ordered by millisecond: this one comes last
				_, err := lagging.Handle(context.Background(), command.StoreCredential{
					Session: f.store.SignIn(f.bob), AccountID: f.bobAccount.ID().String(), CredentialType: "alpaca", APIKey: "BK1", SecretKey: "secret-BK1",
				})
				require.NoError(t, err)
			}
		},
	})
	require.NoError(t, err)
	require.Equal(t, []command.RotationProgress{{0, 5}, {1, 5}, {2, 5}, {3, 5}, {4, 5}, {5, 5}, {6, 6}}, seen)
	require.Equal(t, 5, report.Total, "stale when the run started")
	require.Equal(t, 6, report.Resealed)
	require.Equal(t, 6, report.Done())
}
