package query_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/credential"
)

// Every configured key is listed in its order with the values it seals (two per
// credential), then the ids stored values name that no configured key has, by id.
func TestCredentialKeysCountsWhatEachKeySeals(t *testing.T) {
	f := newFixture(t)
	storeUnder := func(keyID, apiKey string) {
		t.Helper()
		_, err := command.NewStoreCredentialHandler(f.store.Credentials(), apptest.NewCipher(keyID), f.clock, credential.DefaultPerAccount).
			Handle(context.Background(), command.StoreCredential{Session: f.store.SignIn(f.alice), AccountID: f.accountID.String(),
				CredentialType: "alpaca", APIKey: apiKey, SecretKey: "secret-" + apiKey})
		require.NoError(t, err)
	}
	storeUnder("k3", "AK1")
	storeUnder("k1", "AK2")
	storeUnder("k1", "AK3")
	storeUnder("zz-lost", "AK4")
	storeUnder("aa-lost", "AK5")

	configured := []credential.KeyStatus{
		{ID: "k3", State: credential.KeyPrimary},
		{ID: "k2", State: credential.KeyActive},
		{ID: "k1", State: credential.KeyDisabled},
	}
	got, err := query.NewCredentialKeysHandler(f.store).Handle(context.Background(), query.CredentialKeys{Configured: configured})
	require.NoError(t, err)
	require.Equal(t, []credential.KeyUse{
		{KeyStatus: configured[0], Sealed: 2},
		{KeyStatus: configured[1], Sealed: 0},
		{KeyStatus: configured[2], Sealed: 4},
		{KeyStatus: credential.KeyStatus{ID: "aa-lost", State: credential.KeyMissing}, Sealed: 2},
		{KeyStatus: credential.KeyStatus{ID: "zz-lost", State: credential.KeyMissing}, Sealed: 2},
	}, got)
	require.False(t, got[2].SafeToDelete(), "disabled, but still sealing values")
	require.False(t, got[1].SafeToDelete(), "seals nothing, but still opens: disable it first")

	done := credential.KeyUse{KeyStatus: credential.KeyStatus{ID: "k1", State: credential.KeyDisabled}}
	require.True(t, done.SafeToDelete(), "disabled and sealing nothing")
}
