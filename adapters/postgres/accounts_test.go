package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/brokerly/accounts/ports/portstest"
)

func TestAccountRepositoryContract(t *testing.T) {
	portstest.RunAccountRepositoryContract(t, func(t *testing.T) (ports.Transactor, func(*testing.T, user.ID)) {
		db, _ := pgtest.NewDB(t)
		return postgres.NewTransactor(db), func(t *testing.T, u user.ID) { pgtest.InsertUser(t, db, u) }
	})
}

// One account per user makes the ordering unobservable through the port, so this test
// lifts the uniqueness in its own throwaway database to check the query itself.
func TestAccountsListNewestFirst(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	_, err := db.ExecContext(ctx, `ALTER TABLE user_accounts DROP CONSTRAINT user_accounts_user_id_key`)
	require.NoError(t, err)

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// Inserted out of order; two share a timestamp, so the id breaks the tie.
	rows := []struct {
		id      string
		created time.Time
	}{
		{"00000000-0000-7000-8000-000000000001", t0},
		{"00000000-0000-7000-8000-000000000003", t0.Add(time.Hour)},
		{"00000000-0000-7000-8000-000000000002", t0.Add(time.Hour)},
		{"00000000-0000-7000-8000-000000000004", t0.Add(-time.Hour)},
	}
	for _, r := range rows {
		_, err := db.NewRaw(`INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at) VALUES (?, ?, 'x', ?, ?)`,
			r.id, alice.String(), r.created, r.created).Exec(ctx)
		require.NoError(t, err)
	}

	var got []string
	err = postgres.NewTransactor(db).Within(ctx, alice, func(ctx context.Context, r ports.Repositories) error {
		accounts, err := r.Accounts.List(ctx)
		for _, a := range accounts {
			got = append(got, a.ID().String())
		}
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []string{
		"00000000-0000-7000-8000-000000000003",
		"00000000-0000-7000-8000-000000000002",
		"00000000-0000-7000-8000-000000000001",
		"00000000-0000-7000-8000-000000000004",
	}, got)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
