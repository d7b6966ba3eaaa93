package command_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// An impersonating admin may not store, change or delete a user's credentials; the user's
// own session, next to it, still may.
func TestAnImpersonatingAdminCannotChangeCredentials(t *testing.T) {
	f := newCredentialFixture(t)
	c := f.storeCredential(t, f.alice, f.aliceAccount.ID(), "AK1")
	admin := mustUser(t, "admin")
	imp := func() user.Session { return f.store.Impersonate(f.alice, admin) }
	secret, on := "new-secret", false
	opens := f.cipher.Opens()

	_, err := command.NewStoreCredentialHandler(f.store.Credentials(), f.cipher, f.clock, credential.DefaultPerAccount).Handle(context.Background(),
		command.StoreCredential{Session: imp(), AccountID: f.aliceAccount.ID().String(), CredentialType: "alpaca", APIKey: "AK2", SecretKey: "S2"})
	require.ErrorIs(t, err, user.ErrImpersonated)
	_, err = command.NewUpdateCredentialHandler(f.store.Credentials(), f.cipher, f.clock).Handle(context.Background(),
		command.UpdateCredential{Session: imp(), CredentialID: c.ID().String(), SecretKey: &secret, Active: &on})
	require.ErrorIs(t, err, user.ErrImpersonated)
	err = command.NewDeleteCredentialHandler(f.store.Credentials()).Handle(context.Background(),
		command.DeleteCredential{Session: imp(), CredentialID: c.ID().String()})
	require.ErrorIs(t, err, user.ErrImpersonated)
	require.Equal(t, opens, f.cipher.Opens())

	got, err := f.store.Credentials().Get(context.Background(), f.store.SignIn(f.alice), c.ID())
	require.NoError(t, err)
	require.Equal(t, c, got, "nothing changed")
	require.NoError(t, command.NewDeleteCredentialHandler(f.store.Credentials()).Handle(context.Background(),
		command.DeleteCredential{Session: f.store.SignIn(f.alice), CredentialID: c.ID().String()}), "Alice herself still may")
}
