package postgres_test

import (
	"testing"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/brokerly/accounts/ports/portstest"
)

func TestCredentialRepositoryContract(t *testing.T) {
	portstest.RunCredentialRepositoryContract(t, func(t *testing.T) (ports.Transactor, func(*testing.T, user.ID)) {
		db, _ := pgtest.NewDB(t)
		return postgres.NewTransactor(db), func(t *testing.T, u user.ID) { pgtest.InsertUser(t, db, u) }
	})
}

func TestRotationStoreContract(t *testing.T) {
	portstest.RunRotationStoreContract(t, func(t *testing.T) (ports.Transactor, ports.RotationStore, func(*testing.T, user.ID)) {
		db, _ := pgtest.NewDB(t)
		return postgres.NewTransactor(db), postgres.NewRotationStore(db), func(t *testing.T, u user.ID) { pgtest.InsertUser(t, db, u) }
	})
}
