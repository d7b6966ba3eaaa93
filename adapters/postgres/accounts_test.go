package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports/portstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is a fresh clone of the migrated template; signing in writes Better Auth's user
// and session rows, as Better Auth does.
func fixture(t *testing.T) portstest.Store {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	return portstest.Store{
		Sessions:    postgres.NewSessionRepo(db),
		Accounts:    postgres.NewAccountRepo(db),
		Credentials: postgres.NewCredentialRepo(db),
		Trail:       postgres.NewCredentialTrail(db),
		Rotation:    postgres.NewRotationStore(db),
		SignIn:      func(t *testing.T) (user.ID, user.Session) { return pgtest.SignIn(t, db) },
		EndSession:  func(t *testing.T, s user.Session) { pgtest.EndSession(t, db, s) },
		Impersonate: func(t *testing.T, u user.ID) (user.ID, user.Session) { return pgtest.Impersonate(t, db, u) },
	}
}

func TestAccountRepositoryContract(t *testing.T) { portstest.RunAccountRepositoryContract(t, fixture) }
func TestCredentialRepositoryContract(t *testing.T) {
	portstest.RunCredentialRepositoryContract(t, fixture)
}
func TestRotationStoreContract(t *testing.T)   { portstest.RunRotationStoreContract(t, fixture) }
func TestCredentialTrailContract(t *testing.T) { portstest.RunCredentialTrailContract(t, fixture) }

// The account list has no ORDER BY: "newest first" holds because a user has at most one
// account. This fails if that uniqueness ever goes, and with it the reason the sort could.
func TestAccountsListNeedsNoSortBecauseUserIDIsUnique(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	var unique bool
	err := db.Bun().NewRaw(`SELECT EXISTS (
			SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indrelid = 'user_accounts'::regclass AND i.indisunique AND i.indnatts = 1 AND a.attname = 'user_id')`).
		Scan(testContext(t), &unique)
	require.NoError(t, err)
	require.True(t, unique, "user_accounts.user_id must stay unique, or the account list needs its ORDER BY back")
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
