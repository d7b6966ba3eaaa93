package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

func TestRel21_ChokepointContextIsTransactionLocal(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	db.SetMaxOpenConns(1)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)

	settings := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) []string {
		var role, uid, stmt, lock, idle sql.NullString
		require.NoError(t, q.QueryRowContext(ctx, `SELECT current_user, current_setting('app.current_user_id', true),
			current_setting('statement_timeout'), current_setting('lock_timeout'),
			current_setting('idle_in_transaction_session_timeout')`).Scan(&role, &uid, &stmt, &lock, &idle))
		return []string{role.String, uid.String, stmt.String, lock.String, idle.String}
	}
	outside := settings(db.DB)

	err := postgres.NewTransactor(db).RunAs(ctx, alice, func(ctx context.Context, tx bun.Tx) error {
		require.Equal(t, []string{postgres.AppRole, alice.String(), "5s", "3s", "10s"}, settings(tx.Tx))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, outside, settings(db.DB), "everything reverts when the transaction ends")
}

func TestChokepointLockTimeout(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	acc := addAccount(t, db, alice)

	// Someone else holds the row lock and never lets go (reliability test 36).
	holder, err := db.DB.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = holder.Rollback() })
	_, err = holder.ExecContext(ctx, `SELECT 1 FROM user_accounts WHERE id = $1 FOR UPDATE`, acc.ID().String())
	require.NoError(t, err)

	started := time.Now()
	err = postgres.NewTransactor(db).RunAs(ctx, alice, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.Tx.ExecContext(ctx, `UPDATE user_accounts SET account_name = 'x' WHERE id = $1`, acc.ID().String())
		return postgres.Translate("rename", err)
	})
	require.ErrorIs(t, err, ports.ErrTimeout)
	require.Less(t, time.Since(started), 10*time.Second, "lock_timeout, not a hang")
}

func TestWithinDeadlineIsTimeout(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	alice := pgtest.CreateUser(t, db)
	ctx, cancel := context.WithTimeout(testContext(t), 200*time.Millisecond)
	defer cancel()

	err := postgres.NewTransactor(db).Within(ctx, alice, func(ctx context.Context, r ports.Repositories) error {
		<-ctx.Done()
		_, err := r.Accounts.List(ctx)
		return err
	})
	require.ErrorIs(t, err, ports.ErrTimeout)
}

func TestWithinDatabaseDownIsUnavailable(t *testing.T) {
	db, err := postgres.Open(context.Background(), postgres.Config{URL: unreachableURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	called := false
	err = postgres.NewTransactor(db).Within(testContext(t), mustUser(t, "someone"), func(context.Context, ports.Repositories) error {
		called = true
		return nil
	})
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.False(t, called)
}

func TestWithinClosedPoolIsUnavailable(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	require.NoError(t, db.Close())
	err := postgres.NewTransactor(db).Within(testContext(t), mustUser(t, "someone"), func(context.Context, ports.Repositories) error {
		return nil
	})
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

// A backend killed between requests (reliability test 34): the next call either gets a
// fresh connection or fails as unavailable, never as an internal error, and the pool heals.
func TestWithinAfterBackendTerminated(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	db.SetMaxOpenConns(1)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	tr := postgres.NewTransactor(db)
	list := func() error {
		return tr.Within(ctx, alice, func(ctx context.Context, r ports.Repositories) error {
			_, err := r.Accounts.List(ctx)
			return err
		})
	}
	require.NoError(t, list())

	var pid int
	require.NoError(t, db.DB.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	pgtest.Admin(t, `SELECT pg_terminate_backend($1)`, pid)

	if err := list(); err != nil {
		require.ErrorIs(t, err, ports.ErrUnavailable)
	}
	require.NoError(t, list(), "the pool replaced the dead connection")
}

func mustUser(t *testing.T, s string) user.ID {
	t.Helper()
	u, err := user.ParseID(s)
	require.NoError(t, err)
	return u
}
