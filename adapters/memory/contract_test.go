package memory_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports/portstest"
)

// fixture is a fresh store; memory has no user table to satisfy, so signing in is only a
// session.
func fixture(t *testing.T) portstest.Store {
	store := memory.NewStore()
	return portstest.Store{
		Sessions:    store.Sessions(),
		Accounts:    store.Accounts(),
		Credentials: store.Credentials(),
		Trail:       store.Trail(),
		Rotation:    store,
		SignIn: func(t *testing.T) (user.ID, user.Session) {
			id := newUserID(t)
			return id, store.SignIn(id)
		},
		EndSession: func(_ *testing.T, s user.Session) { store.EndSession(s.Token()) },
		Impersonate: func(t *testing.T, u user.ID) (user.ID, user.Session) {
			admin := newUserID(t)
			return admin, store.Impersonate(u, admin)
		},
	}
}

func TestAccountRepositoryContract(t *testing.T) { portstest.RunAccountRepositoryContract(t, fixture) }
func TestCredentialRepositoryContract(t *testing.T) {
	portstest.RunCredentialRepositoryContract(t, fixture)
}
func TestRotationStoreContract(t *testing.T)   { portstest.RunRotationStoreContract(t, fixture) }
func TestCredentialTrailContract(t *testing.T) { portstest.RunCredentialTrailContract(t, fixture) }

func newUserID(t *testing.T) user.ID {
	id, err := user.ParseID(rand.Text())
	require.NoError(t, err)
	return id
}
