package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// openAudited opens another pool on dbURL with cfg's bounds, audited like the service's.
func openAudited(t *testing.T, dbURL string, cfg postgres.Config) *postgres.DB {
	t.Helper()
	cfg.URL = dbURL
	db, err := postgres.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Audit(testContext(t))
	require.NoError(t, err)
	return db
}

// sessionSettings reads what a transaction runs as.
func sessionSettings(ctx context.Context, q *pgx.Conn) ([]string, error) {
	var role, uid, stmt, lock, idle *string
	err := q.QueryRow(ctx, `SELECT current_user::text, current_setting('app.current_user_id', true),
		current_setting('statement_timeout'), current_setting('lock_timeout'),
		current_setting('idle_in_transaction_session_timeout')`).Scan(&role, &uid, &stmt, &lock, &idle)
	out := []string{}
	for _, p := range []*string{role, uid, stmt, lock, idle} {
		if p == nil {
			out = append(out, "")
		} else {
			out = append(out, *p)
		}
	}
	return out, err
}

// Test 21: the chokepoint's context — role, user and guards — holds inside its transaction
// and is gone after it, on the very same pooled connection.
func TestRel21_ChokepointContextIsTransactionLocal(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewDB(t)
	db := openAudited(t, dbURL, postgres.Config{MaxOpenConns: 1})
	alice, s := pgtest.SignIn(t, db)
	ctx := testContext(t)
	var outside []string
	require.NoError(t, db.Raw(ctx, func(ctx context.Context, q *pgx.Conn) (err error) {
		outside, err = sessionSettings(ctx, q)
		return err
	}))

	for _, in := range []struct {
		name string
		run  func(fn func(context.Context, *pgx.Conn) error) error
		want []string
	}{
		{"session", func(fn func(context.Context, *pgx.Conn) error) error { return db.AsUser(ctx, s, fn) },
			[]string{postgres.AppRole, alice.String(), "5s", "3s", "10s"}},
		{"rotator", func(fn func(context.Context, *pgx.Conn) error) error { return db.AsRotator(ctx, fn) },
			[]string{postgres.RotatorRole, "", "5s", "3s", "10s"}},
	} {
		err := in.run(func(ctx context.Context, q *pgx.Conn) error {
			got, err := sessionSettings(ctx, q)
			require.NoError(t, err)
			require.Equal(t, in.want, got, in.name)
			return postgres.ErrRollback
		})
		require.ErrorIs(t, err, postgres.ErrRollback)
		require.NoError(t, db.Raw(ctx, func(ctx context.Context, q *pgx.Conn) error {
			after, err := sessionSettings(ctx, q)
			require.Equal(t, outside, after, "%s: everything reverts when the transaction ends", in.name)
			return err
		}))
	}
}

// A pool of one connection, 300 interleaved calls for Alice, Bob, a signed-out session and
// forced rollbacks: every answer belongs to its caller, and no context survives a call
// (test 20).
func TestRel20_NothingLeaksThroughAOneConnectionPool(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewDB(t)
	db := openAudited(t, dbURL, postgres.Config{MaxOpenConns: 1}) // every call reuses one session
	ctx := testContext(t)
	alice, aliceS := pgtest.SignIn(t, db)
	bob, bobS := pgtest.SignIn(t, db)
	_, gone := pgtest.SignIn(t, db)
	pgtest.EndSession(t, db, gone)
	accounts := map[user.ID]account.Account{alice: addAccount(t, db, aliceS), bob: addAccount(t, db, bobS)}
	repo := postgres.NewAccountRepo(db)

	var loginRole string
	superuser(t, db, `SELECT session_user::text`, nil, &loginRole)
	requireCleanSession := func(t *testing.T) {
		t.Helper()
		require.NoError(t, db.Raw(ctx, func(ctx context.Context, q *pgx.Conn) error {
			got, err := sessionSettings(ctx, q)
			require.Equal(t, loginRole, got[0], "the role switch ended with the transaction")
			require.Empty(t, got[1], "no user context survives the transaction")
			return err
		}))
	}
	requireCleanSession(t)

	boom := errors.New("boom")
	sessions := []user.Session{aliceS, bobS, gone}
	owners := []user.ID{alice, bob, {}}
	for i := range 300 {
		s, owner := sessions[i%3], owners[i%3]
		if i%2 == 1 {
			// A write that fails after the session resolved: rolled back, context gone.
			_, err := repo.Add(ctx, s, func(user.ID) (account.Account, error) { return account.Account{}, boom })
			if owner.IsZero() {
				require.ErrorIs(t, err, ports.ErrUnauthenticated)
			} else {
				require.ErrorIs(t, err, boom)
			}
		} else {
			got, err := repo.List(ctx, s)
			if owner.IsZero() {
				require.ErrorIs(t, err, ports.ErrUnauthenticated, "iteration %d", i)
			} else {
				require.NoError(t, err)
				require.Equal(t, []account.Account{accounts[owner]}, got, "iteration %d", i)
			}
		}
		requireCleanSession(t)
	}
}

func TestChokepointLockTimeout(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	_, s := pgtest.SignIn(t, db)
	acc := addAccount(t, db, s)

	// Someone else holds the row lock and never lets go (test 36).
	held := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = db.Raw(ctx, func(ctx context.Context, q *pgx.Conn) error {
			if _, err := q.Exec(ctx, `BEGIN; SELECT 1 FROM user_accounts WHERE id = '`+acc.ID().String()+`' FOR UPDATE`); err != nil {
				close(held)
				return err
			}
			close(held)
			<-release
			_, err := q.Exec(context.Background(), "ROLLBACK")
			return err
		})
	}()
	<-held
	defer close(release)

	started := time.Now()
	err := viaChokepoint(t, db, s, func(ctx context.Context, q *pgx.Conn) error {
		_, err := q.Exec(ctx, `UPDATE user_accounts SET account_name = 'x' WHERE id = $1`, acc.ID().String())
		return postgres.Translate("rename", err)
	})
	require.ErrorIs(t, err, ports.ErrTimeout)
	require.Less(t, time.Since(started), 10*time.Second, "lock_timeout, not a hang")
}

func TestDeadlineIsTimeout(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	_, s := pgtest.SignIn(t, db)
	ctx, cancel := context.WithTimeout(testContext(t), 200*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	_, err := postgres.NewAccountRepo(db).List(ctx, s)
	require.ErrorIs(t, err, ports.ErrTimeout)
}

func TestDatabaseDownIsUnavailable(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(context.Background(), postgres.Config{URL: unreachableURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Audit(testContext(t))
	require.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = postgres.NewAccountRepo(db).List(testContext(t), mustSession(t, "someone"))
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

func TestClosedPoolIsUnavailable(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	_, s := pgtest.SignIn(t, db)
	require.NoError(t, db.Close())
	_, err := postgres.NewAccountRepo(db).List(testContext(t), s)
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

// A backend killed between requests (test 34): the next call either gets a fresh
// connection or fails as unavailable, never as an internal error, and the pool heals.
func TestAfterBackendTerminated(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewDB(t)
	db := openAudited(t, dbURL, postgres.Config{MaxOpenConns: 1})
	ctx := testContext(t)
	_, s := pgtest.SignIn(t, db)
	repo := postgres.NewAccountRepo(db)
	_, err := repo.List(ctx, s)
	require.NoError(t, err)

	var pid int
	superuser(t, db, `SELECT pg_backend_pid()`, nil, &pid)
	pgtest.Admin(t, `SELECT pg_terminate_backend($1)`, pid)

	if _, err := repo.List(ctx, s); err != nil {
		require.ErrorIs(t, err, ports.ErrUnavailable)
	}
	_, err = repo.List(ctx, s)
	require.NoError(t, err, "the pool replaced the dead connection")
}
