package memory_test

import (
	"testing"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/brokerly/accounts/ports/portstest"
)

func TestAccountRepositoryContract(t *testing.T) {
	portstest.RunAccountRepositoryContract(t, func(t *testing.T) (ports.Transactor, func(*testing.T, user.ID)) {
		// Memory has no user table to satisfy.
		return memory.NewStore(), func(*testing.T, user.ID) {}
	})
}
