package postgres_test

// Row-level security, checked both through the real chokepoint and with raw SQL after
// set_config('role', 'accounts_app', true) on a connection that logged in as the superuser:
// the role switch alone is what makes the policies apply (tests 16-23, 25 of
// docs/reliability.md).

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// tenants is Alice and Bob, each signed in with an account and a credential.
type tenants struct {
	db                   *postgres.DB
	alice, bob           user.ID
	aliceS, bobS         user.Session
	alicesAcc, bobsAcc   account.Account
	alicesCred, bobsCred credential.Credential
}

func newTenants(t *testing.T) tenants {
	t.Helper()
	db, _ := pgtest.NewDB(t)
	f := tenants{db: db}
	f.alice, f.aliceS = pgtest.SignIn(t, db)
	f.bob, f.bobS = pgtest.SignIn(t, db)
	f.alicesAcc, f.bobsAcc = addAccount(t, db, f.aliceS), addAccount(t, db, f.bobS)
	f.alicesCred = addCredential(t, db, f.aliceS, f.alicesAcc, "Alice's")
	f.bobsCred = addCredential(t, db, f.bobS, f.bobsAcc, "Bob's")
	return f
}

// rlsTable is one tenant table as the matrix sees it: how to read, change and insert its
// rows for a given owner.
type rlsTable struct {
	name string
	// id of Alice's row; insert writes a row for owner (and, for credentials, account).
	aliceRow func(f tenants) domain.ID
	insert   func(f tenants, owner user.ID) (string, []any)
	// updates change Alice's row ($1) without touching its owner.
	updates []string
}

var rlsTables = []rlsTable{
	{
		name:     "user_accounts",
		aliceRow: func(f tenants) domain.ID { return f.alicesAcc.ID() },
		insert: func(_ tenants, owner user.ID) (string, []any) {
			return `INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at)
				VALUES (gen_random_uuid(), $1, 'x', now(), now())`, []any{owner.String()}
		},
		updates: []string{`UPDATE user_accounts SET account_name = 'pwned' WHERE id = $1`},
	},
	{
		name:     "user_credentials",
		aliceRow: func(f tenants) domain.ID { return f.alicesCred.ID() },
		insert: func(f tenants, owner user.ID) (string, []any) {
			acc := f.alicesAcc.ID()
			if owner == f.bob {
				acc = f.bobsAcc.ID()
			}
			return `INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment,
				nickname, api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
				VALUES (gen_random_uuid(), $1, $2, 'alpaca', 'paper', 'raw', 'k1', '\x01', 'k1', '\x02', now(), now())`,
				[]any{acc.String(), owner.String()}
		},
		updates: []string{
			`UPDATE user_credentials SET nickname = 'pwned' WHERE id = $1`,
			`UPDATE user_credentials SET api_key_key_id = 'k9', api_key_ciphertext = '\x00' WHERE id = $1`,
			`UPDATE user_credentials SET is_active = false WHERE id = $1`,
		},
	},
}

// rlsContext is how the matrix enters a transaction: through the chokepoint or by a raw
// role switch, as a user (Bob) or with no user at all.
type rlsContext struct {
	name string
	run  func(t *testing.T, f tenants, fn func(context.Context, *pgx.Conn) error) error
	bob  bool // the context is Bob's; otherwise there is none
}

var rlsContexts = []rlsContext{
	{"ChokepointAsBob", func(t *testing.T, f tenants, fn func(context.Context, *pgx.Conn) error) error {
		return viaChokepoint(t, f.db, f.bobS, fn)
	}, true},
	{"RawRoleSwitchAsBob", func(t *testing.T, f tenants, fn func(context.Context, *pgx.Conn) error) error {
		return asApp(t, f.db, ptr(f.bob.String()), fn)
	}, true},
	{"ChokepointNoUser", func(t *testing.T, f tenants, fn func(context.Context, *pgx.Conn) error) error {
		return viaNobody(t, f.db, fn)
	}, false},
	// The raw runner never sets the setting: NULL, or '' on a session that had it before.
	{"RawRoleSwitchNoContext", func(t *testing.T, f tenants, fn func(context.Context, *pgx.Conn) error) error {
		return asApp(t, f.db, nil, fn)
	}, false},
}

// TestRLSMatrix: for both tenant tables and every way in, accounts_app sees and changes only
// the context's own rows. Another user's rows are invisible and unchangeable (0 rows, no
// error: exactly like rows that do not exist); writing a row for anyone else is 42501; with
// no context nothing is visible and nothing can be inserted (tests 10, 17, 18).
func TestRLSMatrix(t *testing.T) {
	for _, table := range rlsTables {
		for _, in := range rlsContexts {
			t.Run(table.name+"/"+in.name, func(t *testing.T) {
				t.Parallel()
				f := newTenants(t)
				alicesRow := table.aliceRow(f)
				before := rowDigest(t, f.db, table.name, alicesRow)
				own := 0
				if in.bob {
					own = 1
				}

				err := in.run(t, f, func(ctx context.Context, q *pgx.Conn) error {
					n, err := count(ctx, q, `SELECT count(*) FROM `+table.name)
					require.NoError(t, err)
					require.Equal(t, own, n, "only the context's own row is visible")
					n, err = count(ctx, q, `SELECT count(*) FROM `+table.name+` WHERE user_id = $1`, f.alice.String())
					require.NoError(t, err)
					require.Zero(t, n, "not even when asked for by Alice's id")
					for _, stmt := range append(table.updates, `DELETE FROM `+table.name+` WHERE id = $1`) {
						changed, err := affected(ctx, q, stmt, alicesRow.String())
						require.NoError(t, err, stmt)
						require.Zero(t, changed, stmt)
					}
					changed, err := affected(ctx, q, `DELETE FROM `+table.name+` WHERE user_id = $1`, f.alice.String())
					require.NoError(t, err)
					require.Zero(t, changed)
					return nil
				})
				require.NoError(t, err)
				require.Equal(t, before, rowDigest(t, f.db, table.name, alicesRow), "Alice's row is unchanged")

				// Writing Alice's rows is refused outright, whoever the context is.
				sql, args := table.insert(f, f.alice)
				err = in.run(t, f, func(ctx context.Context, q *pgx.Conn) error {
					_, err := q.Exec(ctx, sql, args...)
					return err
				})
				requireSQLState(t, err, insufficientPrivilege)
				if in.bob {
					// Moving his own row to Alice.
					bobsRow := f.bobsAcc.ID()
					if table.name == "user_credentials" {
						bobsRow = f.bobsCred.ID()
					}
					err = in.run(t, f, func(ctx context.Context, q *pgx.Conn) error {
						_, err := q.Exec(ctx, `UPDATE `+table.name+` SET user_id = $1 WHERE id = $2`, f.alice.String(), bobsRow.String())
						return err
					})
					requireSQLState(t, err, insufficientPrivilege)
				} else {
					// With no context, not even a row for Bob.
					sql, args := table.insert(f, f.bob)
					err = in.run(t, f, func(ctx context.Context, q *pgx.Conn) error {
						_, err := q.Exec(ctx, sql, args...)
						return err
					})
					requireSQLState(t, err, insufficientPrivilege)
				}
			})
		}
	}
}

// The credentials' composite foreign key: Bob's own user id under Alice's account (or an
// account that does not exist) has no (account, Bob) to point at.
func TestRel18_CredentialsCannotHangUnderAnotherUsersAccount(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	insert := func(accountID string) error {
		return viaChokepoint(t, f.db, f.bobS, func(ctx context.Context, q *pgx.Conn) error {
			_, err := q.Exec(ctx, `INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment,
				nickname, api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
				VALUES (gen_random_uuid(), $1, $2, 'alpaca', 'paper', 'raw', 'k1', '\x01', 'k1', '\x02', now(), now())`,
				accountID, f.bob.String())
			return err
		})
	}
	err := insert(f.alicesAcc.ID().String())
	requireSQLState(t, err, foreignKeyViolation)
	requireConstraint(t, err, credentialOwnerFK)
	requireSQLState(t, insert(domain.NewID(time.Now()).String()), foreignKeyViolation)

	err = viaChokepoint(t, f.db, f.bobS, func(ctx context.Context, q *pgx.Conn) error {
		_, err := q.Exec(ctx, `UPDATE user_credentials SET user_account_id = $1 WHERE id = $2`, f.alicesAcc.ID().String(), f.bobsCred.ID().String())
		return err
	})
	requireSQLState(t, err, foreignKeyViolation)
	require.Equal(t, 1, superuserCount(t, f.db, `SELECT count(*) FROM user_credentials WHERE user_account_id = $1`, f.alicesAcc.ID().String()),
		"nothing was created under Alice's account")
}

func TestRLSSuperuserSeesEverythingWithoutTheRoleSwitch(t *testing.T) {
	// The control experiment: the login role is a superuser, so without the switch RLS
	// would not apply at all. Every other test here relies on the switch.
	t.Parallel()
	f := newTenants(t)
	require.Equal(t, 2, superuserCount(t, f.db, `SELECT count(*) FROM user_accounts`))
	require.Equal(t, 2, superuserCount(t, f.db, `SELECT count(*) FROM user_credentials`))
}

func TestRel19_EmptyContextAfterCommittedSetLocal(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	err := f.db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error { // one session throughout
		if _, err := q.Exec(ctx, `BEGIN; SET LOCAL app.current_user_id = 'x'; COMMIT;`); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		defer func() { _, _ = q.Exec(context.Background(), "ROLLBACK") }()
		if _, err := q.Exec(ctx, `SELECT set_config('role', $1, true)`, postgres.AppRole); err != nil {
			return err
		}
		var setting *string
		require.NoError(t, q.QueryRow(ctx, `SELECT current_setting('app.current_user_id', true)`).Scan(&setting))
		require.NotNil(t, setting, "once defined in the session, the setting reads as '', not NULL")
		require.Equal(t, "", *setting)
		n, err := count(ctx, q, `SELECT count(*) FROM user_accounts`)
		require.NoError(t, err, "an empty context must not raise a cast error")
		require.Zero(t, n)
		return nil
	})
	require.NoError(t, err)
}

func TestRLSRestrictedRoleHasNoGrantOnBetterAuthTables(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	for _, table := range []string{`"user"`, `"session"`, `"account"`, `"verification"`} {
		var granted bool
		superuser(t, f.db, `SELECT has_table_privilege($1, 'public.' || $2, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')`,
			[]any{postgres.AppRole, table}, &granted)
		require.False(t, granted, table)

		for _, in := range []func(fn func(context.Context, *pgx.Conn) error) error{
			func(fn func(context.Context, *pgx.Conn) error) error { return asApp(t, f.db, nil, fn) },
			func(fn func(context.Context, *pgx.Conn) error) error { return viaChokepoint(t, f.db, f.aliceS, fn) },
		} {
			err := in(func(ctx context.Context, q *pgx.Conn) error {
				_, err := q.Exec(ctx, fmt.Sprintf(`SELECT 1 FROM public.%s LIMIT 1`, table))
				return err
			})
			requireSQLState(t, err, insufficientPrivilege)
		}
	}
}

// Test 22: nothing gives the restricted role a way around the policies: no view over a
// tenant table with its owner's rights, and no SECURITY DEFINER function at all (sessions
// are resolved by the login role in the context statement).
func TestRel22_NoLeakyObjects(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	var leakyViews, definers int
	superuser(t, db, `
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
		  AND NOT coalesce('security_invoker=on' = ANY (c.reloptions) OR 'security_invoker=true' = ANY (c.reloptions), false)`, nil, &leakyViews)
	require.Zero(t, leakyViews, "every view uses the caller's rights")
	superuser(t, db, `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public' AND p.prosecdef`, nil, &definers)
	require.Zero(t, definers, "no function runs with its owner's rights")
}

// Test 23: get-or-create needs the SELECT policy; without it the upsert must fail loudly
// rather than quietly report nothing.
func TestRel23_UpsertNeedsTheSelectPolicy(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	accounts := postgres.NewAccountRepo(db)
	getOrCreate := func(s user.Session) error {
		_, _, err := accounts.AddIfAbsent(testContext(t), s, func(owner user.ID) (account.Account, error) {
			name, err := account.ParseName(account.DefaultName)
			if err != nil {
				return account.Account{}, err
			}
			return account.New(owner, name, time.Now())
		})
		return err
	}
	_, s := pgtest.SignIn(t, db)
	require.NoError(t, getOrCreate(s))

	superuserExec(t, db, `DROP POLICY user_accounts_select ON user_accounts`)
	_, s = pgtest.SignIn(t, db)
	err := getOrCreate(s)
	require.ErrorIs(t, err, domain.ErrNotFound, "42501 from the policy check, mapped")
	requireSQLState(t, err, insufficientPrivilege)
}

// Test 25, the plans: with 100k credentials of 1k users, EXPLAIN ANALYZE run as accounts_app
// through the chokepoint shows index scans for exactly the SQL the repositories send, and
// the context statement's session lookup is an index lookup too; no sequential scan.
func TestRel25_IndexScansAt100kRows(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	seedTenants(t, db, 1000, 100)
	u := mustUser(t, seededUser(500))
	s := mustSession(t, seededToken(500))
	var accountID string
	superuser(t, db, `SELECT id::text FROM user_accounts WHERE user_id = $1`, []any{u.String()}, &accountID)

	for _, q := range []struct {
		sql   string
		args  []any
		index string
	}{
		{postgres.ListAccountsSQL, nil, "user_accounts_user_id_key"},
		// The first page, and one that starts after a cursor half way down.
		{postgres.ListCredentialsSQL, []any{accountID, 51, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "ffffffff-ffff-ffff-ffff-ffffffffffff"}, "user_credentials_account_idx"},
		{postgres.ListCredentialsSQL, []any{accountID, 51, time.Now().Add(-50 * time.Second), "00000000-0000-7000-8000-000000000000"}, "user_credentials_account_idx"},
	} {
		plan := explain(t, db, s, q.sql, q.args...)
		require.Contains(t, plan, q.index, plan)
		if q.index == "user_credentials_account_idx" {
			require.Regexp(t, `Index Cond: .*ROW\(created_at, id\) <`, plan, "the page's start is part of the index range")
		}
		require.NotContains(t, plan, "Seq Scan", plan)
	}
	// The context statement's own lookup: Better Auth's unique token index, then the user.
	for _, sql := range []string{postgres.SessionContextSQL(db), postgres.GenericSessionContextSQL} {
		plan := explainAsLogin(t, db, sql, s.Token())
		require.Contains(t, plan, "session_token_key", plan)
		require.Contains(t, plan, "user_pkey", plan)
		require.NotContains(t, plan, "Seq Scan", plan)
	}
}

// explain runs EXPLAIN (ANALYZE) of query through the chokepoint as s, and returns the plan.
func explain(t *testing.T, db *postgres.DB, s user.Session, query string, args ...any) string {
	t.Helper()
	var plan []string
	err := viaChokepoint(t, db, s, func(ctx context.Context, q *pgx.Conn) error {
		rows, err := q.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+query, args...)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	return strings.Join(plan, "\n")
}

// explainAsLogin explains query as the login role, in a transaction that is rolled back.
func explainAsLogin(t *testing.T, db *postgres.DB, query string, args ...any) string {
	t.Helper()
	var plan []string
	err := db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		if _, err := q.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		defer func() { _, _ = q.Exec(context.Background(), "ROLLBACK") }()
		rows, err := q.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+query, args...)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	return strings.Join(plan, "\n")
}

// seededUser and seededToken name the users seedTenants makes.
func seededUser(i int) string  { return fmt.Sprintf("rel25user%023d", i) }
func seededToken(i int) string { return fmt.Sprintf("rel25tokn%023d", i) }

// seedTenants inserts n users (each with a live session and one account) and perUser
// credentials each (random sealed bytes: listing never opens them), as the admin role,
// then analyzes.
func seedTenants(t *testing.T, db *postgres.DB, n, perUser int) {
	t.Helper()
	for _, stmt := range []string{
		`INSERT INTO "user" (id, name, email, "emailVerified")
		 SELECT 'rel25user' || lpad(g::text, 23, '0'), 'n', 'rel25-' || g || '@example.test', false FROM generate_series(1, $1::int) g
		 WHERE $2::int IS NOT NULL`,
		`INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId")
		 SELECT 's' || g, now() + interval '1 hour', 'rel25tokn' || lpad(g::text, 23, '0'), now(), 'rel25user' || lpad(g::text, 23, '0')
		 FROM generate_series(1, $1::int) g WHERE $2::int IS NOT NULL`,
		`INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at)
		 SELECT gen_random_uuid(), 'rel25user' || lpad(g::text, 23, '0'), 'Account ' || g, now(), now() FROM generate_series(1, $1::int) g
		 WHERE $2::int IS NOT NULL`,
		`INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment, nickname,
			api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
		 SELECT gen_random_uuid(), a.id, a.user_id, 'alpaca', 'paper', 'key ' || k, 'k1', sha256((a.id::text || k)::bytea),
			'k1', sha256((k || a.id::text)::bytea), now() - k * interval '1 second', now()
		 FROM user_accounts a CROSS JOIN generate_series(1, $2::int) k
		 WHERE $1::int IS NOT NULL`,
	} {
		superuserExec(t, db, stmt, n, perUser)
	}
	superuserExec(t, db, `ANALYZE "user", "session", user_accounts, user_credentials`)
}
