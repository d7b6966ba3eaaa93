package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

const (
	insufficientPrivilege = "42501"
	foreignKeyViolation   = "23503"
	credentialOwnerFK     = "user_credentials_account_fkey"
)

// asRole runs fn in a transaction on a connection logged in as the superuser, after
// switching to role with raw SQL; a nil uid leaves app.current_user_id unset. It always
// rolls back, and returns fn's error.
func asRole(t *testing.T, db *postgres.DB, role string, uid *string, fn func(ctx context.Context, q *pgx.Conn) error) error {
	t.Helper()
	var fnErr error
	err := db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		if _, err := q.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		defer func() { _, _ = q.Exec(context.Background(), "ROLLBACK") }()
		if _, err := q.Exec(ctx, `SELECT set_config('role', $1, true)`, role); err != nil {
			return err
		}
		if uid != nil {
			if _, err := q.Exec(ctx, `SELECT set_config('app.current_user_id', $1, true)`, *uid); err != nil {
				return err
			}
		}
		var current string
		if err := q.QueryRow(ctx, `SELECT current_user`).Scan(&current); err != nil || current != role {
			return errors.Join(err, errors.New("the role switch did not take effect"))
		}
		fnErr = fn(ctx, q)
		return nil
	})
	require.NoError(t, err)
	return fnErr
}

// asApp is asRole for accounts_app.
func asApp(t *testing.T, db *postgres.DB, uid *string, fn func(ctx context.Context, q *pgx.Conn) error) error {
	t.Helper()
	return asRole(t, db, postgres.AppRole, uid, fn)
}

// viaChokepoint runs fn after the real transaction helper's setup for s, then rolls back.
func viaChokepoint(t *testing.T, db *postgres.DB, s user.Session, fn func(ctx context.Context, q *pgx.Conn) error) error {
	t.Helper()
	var fnErr error
	err := db.AsUser(testContext(t), s, func(ctx context.Context, q *pgx.Conn) error {
		fnErr = fn(ctx, q)
		return postgres.ErrRollback
	})
	require.ErrorIs(t, err, postgres.ErrRollback)
	return fnErr
}

// viaNobody is viaChokepoint for accounts_app with no user.
func viaNobody(t *testing.T, db *postgres.DB, fn func(ctx context.Context, q *pgx.Conn) error) error {
	t.Helper()
	var fnErr error
	err := db.AsNobody(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		fnErr = fn(ctx, q)
		return postgres.ErrRollback
	})
	require.ErrorIs(t, err, postgres.ErrRollback)
	return fnErr
}

// affected runs one statement and returns how many rows it changed.
func affected(ctx context.Context, q *pgx.Conn, query string, args ...any) (int64, error) {
	tag, err := q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func count(ctx context.Context, q *pgx.Conn, query string, args ...any) (int, error) {
	var n int
	err := q.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// superuser runs query on db as the login role (a superuser), outside any role switch,
// and scans its one row into dest: for fixtures and checks only.
func superuser(t *testing.T, db *postgres.DB, query string, args []any, dest ...any) {
	t.Helper()
	require.NoError(t, db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		if len(dest) == 0 {
			_, err := q.Exec(ctx, query, args...)
			return err
		}
		return q.QueryRow(ctx, query, args...).Scan(dest...)
	}))
}

func superuserCount(t *testing.T, db *postgres.DB, query string, args ...any) int {
	t.Helper()
	var n int
	superuser(t, db, query, args, &n)
	return n
}

func superuserExec(t *testing.T, db *postgres.DB, query string, args ...any) {
	t.Helper()
	superuser(t, db, query, args)
}

func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

func requireConstraint(t *testing.T, err error, name string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, name, pgErr.ConstraintName)
}

// addAccount stores an account for the session's user through the repository.
func addAccount(t *testing.T, db *postgres.DB, s user.Session) account.Account {
	t.Helper()
	acc, err := postgres.NewAccountRepo(db).Add(testContext(t), s, func(owner user.ID) (account.Account, error) {
		name, err := account.ParseName("Account of " + owner.String())
		if err != nil {
			return account.Account{}, err
		}
		return account.New(owner, name, time.Now())
	})
	require.NoError(t, err)
	return acc
}

// addCredential stores a credential under acc through the repository, sealed with random
// bytes under key k1; s must be a session of acc's owner.
func addCredential(t *testing.T, db *postgres.DB, s user.Session, acc account.Account, nickname string) credential.Credential {
	t.Helper()
	nick, err := credential.ParseNickname(nickname)
	require.NoError(t, err)
	draft, err := credential.NewDraft(acc.ID(), acc.Owner(), credential.Alpaca, credential.Paper, &nick, time.Now())
	require.NoError(t, err)
	c, err := credential.New(draft, randomSealed("k1"), randomSealed("k1"))
	require.NoError(t, err)
	stored, err := postgres.NewCredentialRepo(db).Add(testContext(t), s, acc.ID(), credential.DefaultPerAccount, func(user.ID) (credential.Credential, error) { return c, nil })
	require.NoError(t, err)
	return stored
}

func randomSealed(keyID string) credential.Sealed {
	ct := make([]byte, 44)
	_, _ = rand.Read(ct) // crypto/rand.Read never fails (Go 1.24+)
	return credential.Sealed{KeyID: keyID, Ciphertext: ct}
}

// rowDigest is md5 of a whole row of table as the superuser sees it: "unchanged" means equal.
func rowDigest(t *testing.T, db *postgres.DB, table string, id domain.ID) string {
	t.Helper()
	var digest string
	superuser(t, db, `SELECT md5(r::text) FROM `+pgx.Identifier{table}.Sanitize()+` r WHERE id = $1`, []any{id.String()}, &digest)
	return digest
}

func mustUser(t *testing.T, id string) user.ID {
	t.Helper()
	u, err := user.ParseID(id)
	require.NoError(t, err)
	return u
}

func mustSession(t *testing.T, token string) user.Session {
	t.Helper()
	s, err := user.NewSession(token)
	require.NoError(t, err)
	return s
}

func ptr(s string) *string { return &s }
