package postgres_test

import (
	"context"
	"database/sql"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/migrations"
)

func TestMigrateTwiceIsANoOp(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t) // migrated once already
	ctx := testContext(t)
	before := appliedMigrations(t, db)
	require.Len(t, before, embeddedMigrations(t))

	require.NoError(t, postgres.Migrate(ctx, db, zaptest.NewLogger(t)))
	require.Equal(t, before, appliedMigrations(t, db), "nothing re-applied")
	require.NoError(t, db.Ready(ctx))
}

// Separate pools stand in for separate processes: the advisory lock is what serialises them.
func TestMigrateConcurrentlyOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewEmptyDB(t)
	ctx := testContext(t)
	const migrators = 4

	errs := make([]error, migrators)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range migrators {
		db, err := postgres.Open(ctx, postgres.Config{URL: dbURL, MaxOpenConns: 2})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = postgres.Migrate(ctx, db, nil)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "migrator %d", i)
	}

	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.Len(t, appliedMigrations(t, db), embeddedMigrations(t))
	_, err = db.Audit(ctx)
	require.NoError(t, err)

	held := superuserCount(t, db,
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	require.Zero(t, held, "every migrator released the lock")
}

func TestMigrateHonoursCancellationWhileWaitingForTheLock(t *testing.T) {
	t.Parallel()
	db, dbURL := pgtest.NewDB(t)
	ctx := testContext(t)
	// Another "process" holds the migration lock.
	holder, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = holder.Close() })
	conn, err := holder.Bun().Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock(x'6163636f756e7473'::bigint)`)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = postgres.Migrate(short, db, zaptest.NewLogger(t))
	require.Error(t, err)
}

func appliedMigrations(t *testing.T, db *postgres.DB) map[string]time.Time {
	t.Helper()
	rows, err := db.Bun().QueryContext(testContext(t), `SELECT version, applied_at FROM schema_migrations`)
	require.NoError(t, err)
	defer func(rows *sql.Rows) { _ = rows.Close() }(rows)
	out := map[string]time.Time{}
	for rows.Next() {
		var v string
		var at time.Time
		require.NoError(t, rows.Scan(&v, &at))
		out[v] = at
	}
	require.NoError(t, rows.Err())
	return out
}

func embeddedMigrations(t *testing.T) int {
	t.Helper()
	names, err := fs.Glob(migrations.FS(), "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	return len(names)
}
