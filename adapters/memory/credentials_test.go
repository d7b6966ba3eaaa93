package memory_test

import (
	"testing"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/brokerly/accounts/ports/portstest"
)

func TestCredentialRepositoryContract(t *testing.T) {
	portstest.RunCredentialRepositoryContract(t, func(t *testing.T) (ports.Transactor, func(*testing.T, user.ID)) {
		return memory.NewStore(), func(*testing.T, user.ID) {}
	})
}

func TestRotationStoreContract(t *testing.T) {
	portstest.RunRotationStoreContract(t, func(t *testing.T) (ports.Transactor, ports.RotationStore, func(*testing.T, user.ID)) {
		store := memory.NewStore() // one store is both the Transactor and the RotationStore
		return store, store, func(*testing.T, user.ID) {}
	})
}
