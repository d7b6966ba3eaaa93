package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// errRollback ends a test transaction without committing anything.
var errRollback = errors.New("rollback")

// asApp runs fn in a transaction on db, which is logged in as the superuser, after
// switching to the restricted role with raw SQL. A nil uid leaves app.current_user_id
// unset. It always rolls back, and returns fn's error.
func asApp(t *testing.T, db *bun.DB, uid *string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	t.Helper()
	ctx := testContext(t)
	tx, err := db.DB.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()

	_, err = tx.ExecContext(ctx, `SELECT set_config('role', $1, true)`, postgres.AppRole)
	require.NoError(t, err)
	if uid != nil {
		_, err = tx.ExecContext(ctx, `SELECT set_config('app.current_user_id', $1, true)`, *uid)
		require.NoError(t, err)
	}
	var current string
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT current_user`).Scan(&current))
	require.Equal(t, postgres.AppRole, current, "the role switch took effect")
	return fn(ctx, tx)
}

// viaChokepoint runs fn with the real Transactor's setup, then rolls back.
func viaChokepoint(t *testing.T, db *bun.DB, actor user.ID, fn func(ctx context.Context, tx *sql.Tx) error) error {
	t.Helper()
	var fnErr error
	err := postgres.NewTransactor(db).RunAs(testContext(t), actor, func(ctx context.Context, tx bun.Tx) error {
		fnErr = fn(ctx, tx.Tx)
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
	return fnErr
}

// affected runs one statement and returns how many rows it changed.
func affected(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func count(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

// addAccount stores an account for u through the chokepoint.
func addAccount(t *testing.T, db *bun.DB, u user.ID) account.Account {
	t.Helper()
	name, err := account.ParseName("Account of " + u.String())
	require.NoError(t, err)
	acc, err := account.New(u, name, time.Now())
	require.NoError(t, err)
	err = postgres.NewTransactor(db).Within(testContext(t), u, func(ctx context.Context, r ports.Repositories) error {
		return r.Accounts.Add(ctx, acc)
	})
	require.NoError(t, err)
	return acc
}

// rowDigest is md5 of the whole row as the superuser sees it: "unchanged" means equal.
func rowDigest(t *testing.T, db *bun.DB, id string) string {
	t.Helper()
	var digest string
	err := db.DB.QueryRowContext(testContext(t),
		`SELECT md5(ua::text) FROM user_accounts ua WHERE id = $1`, id).Scan(&digest)
	require.NoError(t, err)
	return digest
}

func ptr(s string) *string { return &s }
