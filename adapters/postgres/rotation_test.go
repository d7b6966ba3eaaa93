package postgres_test

// Key rotation's role, accounts_rotator: every user's rows, but only the sealed columns and
// the ids they are bound to, and only through its own policies.

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// The rotator's grants are the sealed columns and the ids they are bound to, nothing else.
func TestRLSRotatorGrants(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	rot := postgres.RotatorRole
	for _, priv := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"} {
		for _, table := range []string{"user_credentials", "user_accounts", `"user"`, `"session"`, `"account"`, `"verification"`} {
			var has bool
			superuser(t, db, `SELECT has_table_privilege($1, 'public.' || $2, $3)`, []any{rot, table, priv}, &has)
			require.False(t, has, "no table-wide %s on %s", priv, table)
		}
	}
	var readable, writable []string
	require.NoError(t, db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		rows, err := q.Query(ctx, `
			SELECT a.attname::text,
			       has_column_privilege($1, 'public.user_credentials'::regclass, a.attnum, 'SELECT'),
			       has_column_privilege($1, 'public.user_credentials'::regclass, a.attnum, 'UPDATE'),
			       has_column_privilege($1, 'public.user_credentials'::regclass, a.attnum, 'INSERT')
			FROM pg_attribute a
			WHERE a.attrelid = 'public.user_credentials'::regclass AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY a.attnum`, rot)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var col string
			var sel, upd, ins bool
			if err := rows.Scan(&col, &sel, &upd, &ins); err != nil {
				return err
			}
			require.False(t, ins, col)
			if sel {
				readable = append(readable, col)
			}
			if upd {
				writable = append(writable, col)
			}
		}
		return rows.Err()
	}))
	// user_account_id since migration 009: each "rotated" event names the account.
	require.Equal(t, []string{"id", "user_account_id", "user_id", "api_key_key_id", "api_key_ciphertext", "secret_key_key_id", "secret_key_ciphertext"}, readable)
	require.Equal(t, []string{"api_key_key_id", "api_key_ciphertext", "secret_key_key_id", "secret_key_ciphertext"}, writable)
}

func TestRLSRotatorSeesEveryRowButOnlyTheSealedColumns(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	before := rowDigest(t, f.db, "user_credentials", f.alicesCred.ID())
	for _, in := range []func(fn func(context.Context, *pgx.Conn) error) error{
		func(fn func(context.Context, *pgx.Conn) error) error {
			return asRole(t, f.db, postgres.RotatorRole, nil, fn)
		},
		func(fn func(context.Context, *pgx.Conn) error) error {
			err := f.db.AsRotator(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
				if err := fn(ctx, q); err != nil {
					return err
				}
				return postgres.ErrRollback
			})
			if err == postgres.ErrRollback {
				return nil
			}
			return err
		},
	} {
		require.NoError(t, in(func(ctx context.Context, q *pgx.Conn) error {
			n, err := count(ctx, q, `SELECT count(id) FROM user_credentials`)
			require.NoError(t, err)
			require.Equal(t, 2, n, "every user's rows, without any user context")
			changed, err := affected(ctx, q, `UPDATE user_credentials SET api_key_key_id = 'k2', api_key_ciphertext = '\x0102'
				WHERE id = $1 AND api_key_key_id = $2`, f.alicesCred.ID().String(), f.alicesCred.APIKey().KeyID)
			require.NoError(t, err)
			require.Equal(t, int64(1), changed, "it may re-seal (rolled back here)")
			return nil
		}))

		for _, stmt := range []string{
			`SELECT nickname FROM user_credentials`,
			`SELECT * FROM user_credentials`,
			`SELECT nickname, user_account_id FROM user_credentials`,
			`SELECT count(*) FROM user_credentials WHERE is_active`,
			`UPDATE user_credentials SET nickname = 'x'`,
			`UPDATE user_credentials SET user_id = 'x'`,
			`UPDATE user_credentials SET is_active = false`,
			`DELETE FROM user_credentials`,
			`TRUNCATE user_credentials`,
			`INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment, nickname,
				api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
				SELECT gen_random_uuid(), '` + f.alicesAcc.ID().String() + `', '` + f.alice.String() + `', 'alpaca', 'paper', 'x',
				'k1', '\x01', 'k1', '\x02', now(), now()`,
			`SELECT 1 FROM user_accounts`,
			`SELECT 1 FROM "user"`,
			`SELECT 1 FROM "session"`,
		} {
			err := in(func(ctx context.Context, q *pgx.Conn) error {
				_, err := q.Exec(ctx, stmt)
				return err
			})
			requireSQLState(t, err, insufficientPrivilege)
		}
	}
	require.Equal(t, before, rowDigest(t, f.db, "user_credentials", f.alicesCred.ID()))
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
			t.Parallel()
			db, _ := pgtest.NewDB(t)
			_, s := pgtest.SignIn(t, db)
			c := addCredential(t, db, s, addAccount(t, db, s), "Alice's")
			before := rowDigest(t, db, "user_credentials", c.ID())
			rot := postgres.NewRotationStore(db)
			old := ports.SealedPair{CredentialID: c.ID(), Owner: c.Owner(), APIKey: c.APIKey(), SecretKey: c.SecretKey()}
			stale, err := rot.Stale(testContext(t), "k2", domain.ID{}, 10)
			require.NoError(t, err)
			require.Equal(t, []ports.SealedPair{old}, stale, "the control: with its policies it sees the row")

			superuserExec(t, db, `DROP POLICY `+policy+` ON user_credentials`)
			check(t, rot, old)
			require.Equal(t, before, rowDigest(t, db, "user_credentials", c.ID()))
		})
	}
}

func TestRotationStoreResealChecksItsArguments(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	ctx := testContext(t)
	c, other := f.alicesCred, f.bobsCred
	before := rowDigest(t, f.db, "user_credentials", c.ID())
	rot := postgres.NewRotationStore(f.db)
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
	wrongOwner.Owner, resealed.Owner = f.bob, f.bob
	swapped, err := rot.Reseal(ctx, wrongOwner, resealed)
	require.NoError(t, err)
	require.False(t, swapped)

	_, err = rot.Stale(ctx, "k2", domain.ID{}, 0)
	require.Error(t, err)
	require.Equal(t, before, rowDigest(t, f.db, "user_credentials", c.ID()))
}
