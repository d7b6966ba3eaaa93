package postgres_test

// Row-level security on user_credentials, for accounts_app (through the chokepoint and with
// the raw role switch on a superuser login) and for the rotation-only accounts_rotator
// (reliability tests 10, 11, 16-18 at the database level).

import (
	"context"
	"crypto/rand"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

const (
	foreignKeyViolation = "23503"
	credentialOwnerFK   = "user_credentials_account_fkey"
)

// insertCredentialSQL writes a credential row with arbitrary sealed bytes: $1 account, $2 owner.
const insertCredentialSQL = `INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment,
	nickname, api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
	VALUES (gen_random_uuid(), $1, $2, 'alpaca', 'paper', 'raw', 'k1', '\x01', 'k1', '\x02', now(), now())`

func TestRLSCredentialsOtherUserCannotSeeOrChangeRows(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
			alices := addCredential(t, db, addAccount(t, db, alice), "Alice's")
			addCredential(t, db, addAccount(t, db, bob), "Bob's")
			before := credentialDigest(t, db, alices.ID())

			err := r.run(t, db, ptr(bob.String()), func(ctx context.Context, tx *sql.Tx) error {
				n, err := count(ctx, tx, `SELECT count(*) FROM user_credentials WHERE user_id <> $1`, bob.String())
				require.NoError(t, err)
				require.Zero(t, n, "Bob sees no one else's credentials")
				n, err = count(ctx, tx, `SELECT count(*) FROM user_credentials`)
				require.NoError(t, err)
				require.Equal(t, 1, n, "Bob sees his own")
				n, err = count(ctx, tx, `SELECT count(*) FROM user_credentials WHERE user_account_id = $1`, alices.AccountID().String())
				require.NoError(t, err)
				require.Zero(t, n, "not even through Alice's account id")

				for _, stmt := range []string{
					`UPDATE user_credentials SET nickname = 'pwned' WHERE id = $1`,
					`UPDATE user_credentials SET api_key_key_id = 'k9', api_key_ciphertext = '\x00' WHERE id = $1`,
					`UPDATE user_credentials SET is_active = false WHERE id = $1`,
					`DELETE FROM user_credentials WHERE id = $1`,
				} {
					changed, err := affected(ctx, tx, stmt, alices.ID().String())
					require.NoError(t, err, stmt)
					require.Zero(t, changed, stmt)
				}
				changed, err := affected(ctx, tx, `DELETE FROM user_credentials WHERE user_id = $1`, alice.String())
				require.NoError(t, err)
				require.Zero(t, changed)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, before, credentialDigest(t, db, alices.ID()), "Alice's credential is unchanged")
		})
	}
}

func TestRel17_MissingContextCredentials(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice := pgtest.CreateUser(t, db)
			acc := addAccount(t, db, alice)
			c := addCredential(t, db, acc, "Alice's")
			before := credentialDigest(t, db, c.ID())
			run := func(fn func(context.Context, *sql.Tx) error) error { return r.run(t, db, nil, fn) }

			require.NoError(t, run(func(ctx context.Context, tx *sql.Tx) error {
				n, err := count(ctx, tx, `SELECT count(*) FROM user_credentials`)
				require.NoError(t, err)
				require.Zero(t, n)
				changed, err := affected(ctx, tx, `UPDATE user_credentials SET nickname = 'x'`)
				require.NoError(t, err)
				require.Zero(t, changed)
				changed, err = affected(ctx, tx, `DELETE FROM user_credentials`)
				require.NoError(t, err)
				require.Zero(t, changed)
				return nil
			}))
			err := run(func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, insertCredentialSQL, acc.ID().String(), alice.String())
				return err
			})
			requireSQLState(t, err, insufficientPrivilege)
			require.Equal(t, before, credentialDigest(t, db, c.ID()))
		})
	}
}

func TestRel18_WrongContextCredentials(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
			alicesAccount := addAccount(t, db, alice)
			bobs := addCredential(t, db, addAccount(t, db, bob), "Bob's")
			asBob := func(fn func(context.Context, *sql.Tx) error) error { return r.run(t, db, ptr(bob.String()), fn) }
			exec := func(query string, args ...any) error {
				return asBob(func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, query, args...)
					return err
				})
			}

			// His own user id under Alice's account: the composite key has no (Alice's
			// account, Bob) to point at. Likewise an account that does not exist.
			err := exec(insertCredentialSQL, alicesAccount.ID().String(), bob.String())
			requireSQLState(t, err, foreignKeyViolation)
			requireConstraint(t, err, credentialOwnerFK)
			err = exec(insertCredentialSQL, domain.NewID(time.Now()).String(), bob.String())
			requireSQLState(t, err, foreignKeyViolation)

			// Alice's user id: the policy's WITH CHECK refuses before any key is checked.
			requireSQLState(t, exec(insertCredentialSQL, alicesAccount.ID().String(), alice.String()), insufficientPrivilege)

			// Moving his own row to Alice, or under her account.
			requireSQLState(t, exec(`UPDATE user_credentials SET user_id = $1 WHERE id = $2`, alice.String(), bobs.ID().String()),
				insufficientPrivilege)
			err = exec(`UPDATE user_credentials SET user_account_id = $1 WHERE id = $2`, alicesAccount.ID().String(), bobs.ID().String())
			requireSQLState(t, err, foreignKeyViolation)

			n := superuserCount(t, db, `SELECT count(*) FROM user_credentials WHERE user_account_id = $1`, alicesAccount.ID().String())
			require.Zero(t, n, "nothing was created under Alice's account")
		})
	}
}

// The one foreign key that means "not yours" maps to not-found; through the repository, the
// caller sees exactly what an unknown account gives.
func TestCredentialAddUnderAnotherUsersAccountMapsTheForeignKey(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
	alicesAccount := addAccount(t, db, alice)
	addAccount(t, db, bob)
	draft, err := credential.NewDraft(alicesAccount.ID(), bob, credential.Alpaca, credential.Paper, nil, time.Now())
	require.NoError(t, err)
	c, err := credential.New(draft, randomSealed("k1"), randomSealed("k1"))
	require.NoError(t, err)

	err = postgres.NewTransactor(db).Within(testContext(t), bob, func(ctx context.Context, r ports.Repositories) error {
		return r.Credentials.Add(ctx, c)
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
	requireSQLState(t, err, foreignKeyViolation)
	requireConstraint(t, err, credentialOwnerFK)
}

func TestRLSRotatorSeesEveryRowButOnlyTheSealedColumns(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
	alices := addCredential(t, db, addAccount(t, db, alice), "Alice's")
	addCredential(t, db, addAccount(t, db, bob), "Bob's")
	before := credentialDigest(t, db, alices.ID())

	require.NoError(t, asRole(t, db, postgres.RotatorRole, nil, func(ctx context.Context, tx *sql.Tx) error {
		n, err := count(ctx, tx, `SELECT count(id) FROM user_credentials`)
		require.NoError(t, err)
		require.Equal(t, 2, n, "every user's rows, without any user context")
		n, err = count(ctx, tx, `SELECT count(*) FROM (SELECT id, user_id, api_key_key_id, api_key_ciphertext,
			secret_key_key_id, secret_key_ciphertext FROM user_credentials) s`)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		changed, err := affected(ctx, tx, `UPDATE user_credentials SET api_key_key_id = 'k2', api_key_ciphertext = '\x0102'
			WHERE id = $1 AND api_key_key_id = $2`, alices.ID().String(), alices.APIKey().KeyID)
		require.NoError(t, err)
		require.Equal(t, int64(1), changed, "it may re-seal (rolled back here)")
		return nil
	}))

	for _, stmt := range []string{
		`SELECT nickname FROM user_credentials`,
		`SELECT * FROM user_credentials`,
		`SELECT user_account_id FROM user_credentials`,
		`SELECT count(*) FROM user_credentials WHERE is_active`,
		`UPDATE user_credentials SET nickname = 'x'`,
		`UPDATE user_credentials SET user_id = 'x'`,
		`UPDATE user_credentials SET is_active = false`,
		`DELETE FROM user_credentials`,
		`TRUNCATE user_credentials`,
		`INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment, nickname,
			api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
			SELECT gen_random_uuid(), '` + alices.AccountID().String() + `', '` + alice.String() + `', 'alpaca', 'paper', 'x',
			'k1', '\x01', 'k1', '\x02', now(), now()`,
		`SELECT 1 FROM user_accounts`,
		`SELECT 1 FROM "user"`,
		`SELECT 1 FROM "session"`,
	} {
		err := asRole(t, db, postgres.RotatorRole, nil, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, stmt)
			return err
		})
		requireSQLState(t, err, insufficientPrivilege)
	}
	require.Equal(t, before, credentialDigest(t, db, alices.ID()))
}

func TestRotationStoreRunsAsTheRotatorWithTheChokepointTimeouts(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	db.SetMaxOpenConns(1)
	ctx := testContext(t)
	var outside string
	require.NoError(t, db.DB.QueryRowContext(ctx, `SELECT current_user`).Scan(&outside))

	err := postgres.NewRotationStore(db).RunAsRotator(ctx, func(ctx context.Context, tx bun.Tx) error {
		var role, uid, stmt, lock, idle sql.NullString
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT current_user, current_setting('app.current_user_id', true),
			current_setting('statement_timeout'), current_setting('lock_timeout'),
			current_setting('idle_in_transaction_session_timeout')`).Scan(&role, &uid, &stmt, &lock, &idle))
		require.Equal(t, []string{postgres.RotatorRole, "", "5s", "3s", "10s"},
			[]string{role.String, uid.String, stmt.String, lock.String, idle.String})
		return nil
	})
	require.NoError(t, err)
	var after string
	require.NoError(t, db.DB.QueryRowContext(ctx, `SELECT current_user`).Scan(&after))
	require.Equal(t, outside, after, "the role switch ended with the transaction")
}

// The rotator is held by its own policies, not by a bypass: without them it sees and changes
// nothing, although the login role is a superuser.
func TestRotationStoreDoesNotBypassRLS(t *testing.T) {
	for policy, check := range map[string]func(t *testing.T, rot *postgres.RotationStore, old ports.SealedPair){
		"user_credentials_rotate_select": func(t *testing.T, rot *postgres.RotationStore, _ ports.SealedPair) {
			stale, err := rot.Stale(testContext(t), "k2", domain.ID{}, 10)
			require.NoError(t, err)
			require.Empty(t, stale)
		},
		"user_credentials_rotate_update": func(t *testing.T, rot *postgres.RotationStore, old ports.SealedPair) {
			resealed := old
			resealed.APIKey, resealed.SecretKey = randomSealed("k2"), randomSealed("k2")
			swapped, err := rot.Reseal(testContext(t), old, resealed)
			require.NoError(t, err)
			require.False(t, swapped)
		},
	} {
		t.Run(policy, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice := pgtest.CreateUser(t, db)
			c := addCredential(t, db, addAccount(t, db, alice), "Alice's")
			before := credentialDigest(t, db, c.ID())
			rot := postgres.NewRotationStore(db)
			old := ports.SealedPair{CredentialID: c.ID(), Owner: c.Owner(), APIKey: c.APIKey(), SecretKey: c.SecretKey()}
			stale, err := rot.Stale(testContext(t), "k2", domain.ID{}, 10)
			require.NoError(t, err)
			require.Equal(t, []ports.SealedPair{old}, stale, "the control: with its policies it sees the row")

			_, err = db.DB.ExecContext(testContext(t), `DROP POLICY `+policy+` ON user_credentials`)
			require.NoError(t, err)
			check(t, rot, old)
			require.Equal(t, before, credentialDigest(t, db, c.ID()))
		})
	}
}

func TestRotationStoreResealChecksItsArguments(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
	c := addCredential(t, db, addAccount(t, db, alice), "Alice's")
	other := addCredential(t, db, addAccount(t, db, bob), "Bob's")
	before := credentialDigest(t, db, c.ID())
	rot := postgres.NewRotationStore(db)
	old := ports.SealedPair{CredentialID: c.ID(), Owner: c.Owner(), APIKey: c.APIKey(), SecretKey: c.SecretKey()}
	fresh := func() ports.SealedPair {
		p := old
		p.APIKey, p.SecretKey = randomSealed("k2"), randomSealed("k2")
		return p
	}

	moved := fresh()
	moved.CredentialID = other.ID()
	_, err := rot.Reseal(ctx, old, moved)
	require.Error(t, err, "a resealed pair for another row is a caller bug")

	empty := fresh()
	empty.SecretKey = credential.Sealed{KeyID: "k2"}
	_, err = rot.Reseal(ctx, old, empty)
	require.Error(t, err, "an empty value would destroy the credential")

	// The values are bound to their owner: a pair that names another owner matches nothing.
	wrongOwner, resealed := old, fresh()
	wrongOwner.Owner, resealed.Owner = bob, bob
	swapped, err := rot.Reseal(ctx, wrongOwner, resealed)
	require.NoError(t, err)
	require.False(t, swapped)

	_, err = rot.Stale(ctx, "k2", domain.ID{}, 0)
	require.Error(t, err)
	require.Equal(t, before, credentialDigest(t, db, c.ID()))
}

// Update writes back only what an aggregate can change; a change that swaps in a whole other
// credential is refused rather than half-applied.
func TestCredentialUpdateRefusesAReplacedIdentity(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	alice := pgtest.CreateUser(t, db)
	acc := addAccount(t, db, alice)
	c := addCredential(t, db, acc, "Original")
	impostor := addCredential(t, db, acc, "Impostor")
	before := credentialDigest(t, db, c.ID())

	err := postgres.NewTransactor(db).Within(testContext(t), alice, func(ctx context.Context, r ports.Repositories) error {
		_, err := r.Credentials.Update(ctx, c.ID(), func(c *credential.Credential) error {
			*c = impostor
			return nil
		})
		return err
	})
	require.Error(t, err)
	require.Equal(t, before, credentialDigest(t, db, c.ID()))
}

// Reliability test 25 for credentials: under RLS the list is served by the account index (the
// policy's current_setting call is wrapped, and nothing non-leakproof blocks the index).
func TestRel25_CredentialListCanUseTheAccountIndex(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	alice := pgtest.CreateUser(t, db)
	acc := addAccount(t, db, alice)
	addCredential(t, db, acc, "One")

	var plan []string
	err := viaChokepoint(t, db, alice, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT set_config('enable_seqscan', 'off', true)`)
		require.NoError(t, err)
		rows, err := tx.QueryContext(ctx, `EXPLAIN SELECT * FROM user_credentials WHERE user_account_id = $1 AND user_id = $2
			ORDER BY created_at DESC, id DESC`, acc.ID().String(), alice.String())
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan = append(plan, line)
		}
		return rows.Err()
	})
	require.NoError(t, err)
	require.Contains(t, strings.Join(plan, "\n"), "user_credentials_account_idx", strings.Join(plan, "\n"))
}

// asRole is asApp for any role: a raw set_config('role', ...) on the superuser login, the
// user context set only when uid is not nil; it always rolls back.
func asRole(t *testing.T, db *bun.DB, role string, uid *string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	t.Helper()
	ctx := testContext(t)
	tx, err := db.DB.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, `SELECT set_config('role', $1, true)`, role)
	require.NoError(t, err)
	if uid != nil {
		_, err = tx.ExecContext(ctx, `SELECT set_config('app.current_user_id', $1, true)`, *uid)
		require.NoError(t, err)
	}
	var current string
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT current_user`).Scan(&current))
	require.Equal(t, role, current, "the role switch took effect")
	return fn(ctx, tx)
}

// addCredential stores a credential under acc through the chokepoint, sealed with random
// bytes under key k1.
func addCredential(t *testing.T, db *bun.DB, acc account.Account, nickname string) credential.Credential {
	t.Helper()
	nick, err := credential.ParseNickname(nickname)
	require.NoError(t, err)
	draft, err := credential.NewDraft(acc.ID(), acc.Owner(), credential.Alpaca, credential.Paper, &nick, time.Now())
	require.NoError(t, err)
	c, err := credential.New(draft, randomSealed("k1"), randomSealed("k1"))
	require.NoError(t, err)
	storeCredential(t, db, c)
	return c
}

func storeCredential(t *testing.T, db *bun.DB, c credential.Credential) {
	t.Helper()
	err := postgres.NewTransactor(db).Within(testContext(t), c.Owner(), func(ctx context.Context, r ports.Repositories) error {
		return r.Credentials.Add(ctx, c)
	})
	require.NoError(t, err)
}

func randomSealed(keyID string) credential.Sealed {
	ct := make([]byte, 44)
	_, _ = rand.Read(ct) // crypto/rand.Read never fails (Go 1.24+)
	return credential.Sealed{KeyID: keyID, Ciphertext: ct}
}

// credentialDigest is md5 of the whole credential row as the superuser sees it.
func credentialDigest(t *testing.T, db *bun.DB, id domain.ID) string {
	t.Helper()
	var digest string
	err := db.DB.QueryRowContext(testContext(t),
		`SELECT md5(uc::text) FROM user_credentials uc WHERE id = $1`, id.String()).Scan(&digest)
	require.NoError(t, err)
	return digest
}

func superuserCount(t *testing.T, db *bun.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.DB.QueryRowContext(testContext(t), query, args...).Scan(&n))
	return n
}

func requireConstraint(t *testing.T, err error, name string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, name, pgErr.ConstraintName)
}
