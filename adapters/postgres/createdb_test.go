package postgres_test

import (
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/ports"
)

func TestEnsureDatabase(t *testing.T) {
	ctx := testContext(t)
	// A name that only survives if it is quoted properly.
	name := pgtest.UniqueName(t) + ` "q";drop--` // under 63 bytes, or the server truncates it
	t.Cleanup(func() { pgtest.Admin(t, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") })
	url := pgtest.DatabaseURL(t, name)

	// Concurrent creators all succeed, then a second round finds it there.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = postgres.EnsureDatabase(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "creator %d", i)
	}
	require.NoError(t, postgres.EnsureDatabase(ctx, url))

	db, err := postgres.Open(ctx, postgres.Config{URL: url})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var got string
	require.NoError(t, db.Bun().QueryRowContext(ctx, `SELECT current_database()`).Scan(&got))
	require.Equal(t, name, got)
}

func TestEnsureDatabaseUnreachable(t *testing.T) {
	err := postgres.EnsureDatabase(testContext(t), unreachableURL)
	require.ErrorIs(t, err, ports.ErrUnavailable)
}
