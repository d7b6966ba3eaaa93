package postgres_test

// Row-level security, checked both through the real chokepoint and with raw SQL after
// set_config('role', 'accounts_app', true) on a connection that logged in as the superuser:
// the role switch alone is what makes the policies apply (reliability tests 16-23, 25).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

const insufficientPrivilege = "42501"

// runner abstracts the two ways in: the chokepoint and the raw role switch.
type runner struct {
	name string
	run  func(t *testing.T, db *bun.DB, uid *string, fn func(context.Context, *sql.Tx) error) error
}

var runners = []runner{
	{"Chokepoint", func(t *testing.T, db *bun.DB, uid *string, fn func(context.Context, *sql.Tx) error) error {
		var actor user.ID // nil uid: the zero actor, which sets an empty context
		if uid != nil {
			var err error
			actor, err = user.ParseID(*uid)
			require.NoError(t, err)
		}
		return viaChokepoint(t, db, actor, fn)
	}},
	{"RawRoleSwitch", asApp},
}

func TestRLSSuperuserSeesEverythingWithoutTheRoleSwitch(t *testing.T) {
	// The control experiment: the login role is a superuser, so without the switch RLS
	// would not apply at all. Every other test here relies on the switch.
	db, _ := pgtest.NewDB(t)
	a := addAccount(t, db, pgtest.CreateUser(t, db))
	var n int
	require.NoError(t, db.DB.QueryRowContext(testContext(t), `SELECT count(*) FROM user_accounts WHERE id = $1`, a.ID().String()).Scan(&n))
	require.Equal(t, 1, n)
}

func TestRLSOtherUserCannotSeeOrChangeRows(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
			alices := addAccount(t, db, alice)
			addAccount(t, db, bob)
			before := rowDigest(t, db, alices.ID().String())

			err := r.run(t, db, ptr(bob.String()), func(ctx context.Context, tx *sql.Tx) error {
				n, err := count(ctx, tx, `SELECT count(*) FROM user_accounts WHERE user_id <> $1`, bob.String())
				require.NoError(t, err)
				require.Zero(t, n, "Bob sees no one else's rows")
				n, err = count(ctx, tx, `SELECT count(*) FROM user_accounts`)
				require.NoError(t, err)
				require.Equal(t, 1, n, "Bob sees his own row")

				changed, err := affected(ctx, tx, `UPDATE user_accounts SET account_name = 'pwned' WHERE id = $1`, alices.ID().String())
				require.NoError(t, err)
				require.Zero(t, changed)
				changed, err = affected(ctx, tx, `DELETE FROM user_accounts WHERE id = $1`, alices.ID().String())
				require.NoError(t, err)
				require.Zero(t, changed)
				changed, err = affected(ctx, tx, `DELETE FROM user_accounts WHERE user_id = $1`, alice.String())
				require.NoError(t, err)
				require.Zero(t, changed)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, before, rowDigest(t, db, alices.ID().String()), "Alice's row is unchanged")
		})
	}
}

func TestRel17_MissingContext(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice := pgtest.CreateUser(t, db)
			alices := addAccount(t, db, alice)
			before := rowDigest(t, db, alices.ID().String())

			// nil: the raw runner never sets the setting (NULL, or '' on a session that had it
			// before); the chokepoint runs the zero actor, which sets ''. Both see nothing.
			run := func(fn func(context.Context, *sql.Tx) error) error { return r.run(t, db, nil, fn) }

			require.NoError(t, run(func(ctx context.Context, tx *sql.Tx) error {
				n, err := count(ctx, tx, `SELECT count(*) FROM user_accounts`)
				require.NoError(t, err)
				require.Zero(t, n)
				changed, err := affected(ctx, tx, `UPDATE user_accounts SET account_name = 'x'`)
				require.NoError(t, err)
				require.Zero(t, changed)
				changed, err = affected(ctx, tx, `DELETE FROM user_accounts`)
				require.NoError(t, err)
				require.Zero(t, changed)
				return nil
			}))
			err := run(func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at)
					VALUES (gen_random_uuid(), $1, 'x', now(), now())`, pgtest.CreateUser(t, db).String())
				return err
			})
			requireSQLState(t, err, insufficientPrivilege)
			require.Equal(t, before, rowDigest(t, db, alices.ID().String()))
		})
	}
}

func TestRel18_WrongContext(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
			bobs := addAccount(t, db, bob)
			asBob := func(fn func(context.Context, *sql.Tx) error) error { return r.run(t, db, ptr(bob.String()), fn) }

			err := asBob(func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at)
					VALUES (gen_random_uuid(), $1, 'x', now(), now())`, alice.String())
				return err
			})
			requireSQLState(t, err, insufficientPrivilege)

			err = asBob(func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE user_accounts SET user_id = $1 WHERE id = $2`, alice.String(), bobs.ID().String())
				return err
			})
			requireSQLState(t, err, insufficientPrivilege)
		})
	}
}

func TestRel19_EmptyContextAfterCommittedSetLocal(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	addAccount(t, db, pgtest.CreateUser(t, db))
	ctx := testContext(t)
	conn, err := db.DB.Conn(ctx) // one session throughout
	require.NoError(t, err)
	defer conn.Close()

	_, err = conn.ExecContext(ctx, `BEGIN; SET LOCAL app.current_user_id = 'x'; COMMIT;`)
	require.NoError(t, err)

	tx, err := conn.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, `SELECT set_config('role', $1, true)`, postgres.AppRole)
	require.NoError(t, err)
	var setting sql.NullString
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT current_setting('app.current_user_id', true)`).Scan(&setting))
	require.True(t, setting.Valid, "once defined in the session, the setting reads as '', not NULL")
	require.Equal(t, "", setting.String)
	n, err := count(ctx, tx, `SELECT count(*) FROM user_accounts`)
	require.NoError(t, err, "an empty context must not raise a cast error")
	require.Zero(t, n)
}

func TestRLSNothingLeaksThroughAOneConnectionPool(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	db.SetMaxOpenConns(1) // every transaction reuses the same session
	ctx := testContext(t)
	alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
	accounts := map[user.ID]account.Account{alice: addAccount(t, db, alice), bob: addAccount(t, db, bob)}
	tr := postgres.NewTransactor(db)

	var loginRole string
	require.NoError(t, db.DB.QueryRowContext(ctx, `SELECT session_user`).Scan(&loginRole))
	requireCleanSession := func(t *testing.T) {
		t.Helper()
		var setting sql.NullString
		var current string
		require.NoError(t, db.DB.QueryRowContext(ctx,
			`SELECT current_setting('app.current_user_id', true), current_user`).Scan(&setting, &current))
		require.Empty(t, setting.String, "no user context survives the transaction")
		require.Equal(t, loginRole, current, "the role switch ended with the transaction")
	}
	requireCleanSession(t)

	boom := errors.New("boom")
	var nobody user.ID
	for i := range 300 {
		actor := []user.ID{alice, bob, nobody}[i%3]
		rollback := i%2 == 1
		err := tr.Within(ctx, actor, func(ctx context.Context, r ports.Repositories) error {
			got, err := r.Accounts.List(ctx)
			if err != nil {
				return err
			}
			if actor.IsZero() {
				require.Empty(t, got)
			} else {
				require.Equal(t, []account.Account{accounts[actor]}, got, "iteration %d", i)
			}
			if rollback {
				return boom
			}
			return nil
		})
		if rollback {
			require.ErrorIs(t, err, boom)
		} else {
			require.NoError(t, err)
		}
		requireCleanSession(t)
	}
}

func TestRel16_RoleAudit(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	_, err := postgres.AuditRLS(ctx, db)
	require.NoError(t, err)

	// Both roles a transaction switches to: the user-scoped one and the rotation-only one.
	for _, role := range []string{postgres.AppRole, postgres.RotatorRole} {
		var super, bypass, login, inherit bool
		require.NoError(t, db.DB.QueryRowContext(ctx,
			`SELECT rolsuper, rolbypassrls, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = $1`, role).Scan(&super, &bypass, &login, &inherit))
		require.False(t, super, role)
		require.False(t, bypass, role)
		require.False(t, login, role)
		require.False(t, inherit, role)

		var owned int
		require.NoError(t, db.DB.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1) +
			(SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = $1) +
			(SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = $1)`, role).Scan(&owned))
		require.Zero(t, owned, "%s owns nothing (owners bypass RLS unless forced)", role)
	}

	for _, table := range []string{"user_accounts", "user_credentials"} {
		var rls, force bool
		require.NoError(t, db.DB.QueryRowContext(ctx,
			`SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = ('public.' || $1)::regclass`, table).Scan(&rls, &force))
		require.True(t, rls, table)
		require.True(t, force, table)
	}

	app, rot := postgres.AppRole, postgres.RotatorRole
	for table, want := range map[string][]string{
		"user_accounts": {"DELETE " + app, "INSERT " + app, "SELECT " + app, "UPDATE " + app},
		// One policy per command for the app; the rotator may only read and re-seal.
		"user_credentials": {"DELETE " + app, "INSERT " + app, "SELECT " + app, "SELECT " + rot, "UPDATE " + app, "UPDATE " + rot},
	} {
		rows, err := db.DB.QueryContext(ctx,
			`SELECT cmd || ' ' || array_to_string(roles, ',') FROM pg_policies
			 WHERE schemaname = 'public' AND tablename = $1 ORDER BY 1`, table)
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			var p string
			require.NoError(t, rows.Scan(&p))
			got = append(got, p)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Equal(t, want, got, "%s: each policy applies to one restricted role", table)
	}
}

// The rotator's grants are the sealed columns and the ids they are bound to, nothing else.
func TestRLSRotatorGrants(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	rot := postgres.RotatorRole

	for _, priv := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"} {
		for _, table := range []string{"user_credentials", "user_accounts", `"user"`, `"session"`, `"account"`, `"verification"`} {
			var has bool
			require.NoError(t, db.DB.QueryRowContext(ctx,
				`SELECT has_table_privilege($1, 'public.' || $2, $3)`, rot, table, priv).Scan(&has))
			require.False(t, has, "no table-wide %s on %s", priv, table)
		}
	}

	rows, err := db.DB.QueryContext(ctx, `
		SELECT a.attname,
		       has_column_privilege($1, 'public.user_credentials'::regclass, a.attnum, 'SELECT'),
		       has_column_privilege($1, 'public.user_credentials'::regclass, a.attnum, 'UPDATE'),
		       has_column_privilege($1, 'public.user_credentials'::regclass, a.attnum, 'INSERT')
		FROM pg_attribute a
		WHERE a.attrelid = 'public.user_credentials'::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, rot)
	require.NoError(t, err)
	defer rows.Close()
	var readable, writable []string
	for rows.Next() {
		var col string
		var sel, upd, ins bool
		require.NoError(t, rows.Scan(&col, &sel, &upd, &ins))
		require.False(t, ins, col)
		if sel {
			readable = append(readable, col)
		}
		if upd {
			writable = append(writable, col)
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"id", "user_id", "api_key_key_id", "api_key_ciphertext", "secret_key_key_id", "secret_key_ciphertext"}, readable)
	require.Equal(t, []string{"api_key_key_id", "api_key_ciphertext", "secret_key_key_id", "secret_key_ciphertext"}, writable)
}

// The audit notices an unsafe role among those it is given. The real roles are cluster-wide
// and shared with concurrently running tests, so a uniquely named scratch role stands in.
func TestRel16_AuditCatchesUnsafeRoles(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	// LOGIN for the audit to see, but CONNECTION LIMIT 0: nobody can actually log in with it.
	unsafe := "accounts_audit_" + strings.ToLower(pgtest.RandomToken()[:12])
	missing := unsafe + "_missing"
	pgtest.Admin(t, `CREATE ROLE `+unsafe+` LOGIN CONNECTION LIMIT 0 BYPASSRLS INHERIT`)
	_, err := db.DB.ExecContext(ctx, `CREATE TABLE scratch_owned (user_id text); ALTER TABLE scratch_owned OWNER TO `+unsafe)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = db.DB.ExecContext(context.Background(), `DROP TABLE IF EXISTS scratch_owned`)
		pgtest.Admin(t, `DROP ROLE IF EXISTS `+unsafe)
	})

	_, err = postgres.AuditRLSForRoles(ctx, db, []string{postgres.AppRole, unsafe, missing})
	require.Error(t, err)
	for _, problem := range []string{
		"role " + unsafe + " bypasses RLS",
		"role " + unsafe + " can log in",
		"role " + unsafe + " inherits",
		"role " + unsafe + " owns relation scratch_owned",
		"role " + missing + " does not exist",
	} {
		require.Contains(t, err.Error(), problem)
	}
	require.NotContains(t, err.Error(), "role "+postgres.AppRole+" ", "the real role passes")
}

// The audit is only worth running at boot if it notices a broken setup.
func TestRel16_AuditCatchesMistakes(t *testing.T) {
	for name, sabotage := range map[string]string{
		"does not force RLS":                               `ALTER TABLE user_accounts NO FORCE ROW LEVEL SECURITY`,
		"has RLS disabled":                                 `ALTER TABLE user_accounts DISABLE ROW LEVEL SECURITY`,
		"has no SELECT policy":                             `DROP POLICY user_accounts_select ON user_accounts`,
		"has no DELETE policy":                             `DROP POLICY user_accounts_delete ON user_accounts`,
		"table scratch has RLS disabled":                   `CREATE TABLE scratch (user_id text)`,
		"table user_credentials does not force RLS":        `ALTER TABLE user_credentials NO FORCE ROW LEVEL SECURITY`,
		"policy leak applies to PUBLIC":                    `CREATE POLICY leak ON user_credentials FOR SELECT USING (true)`,
		"role accounts_app owns relation user_credentials": `ALTER TABLE user_credentials OWNER TO accounts_app`,
	} {
		t.Run(name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			ctx := testContext(t)
			_, err := db.DB.ExecContext(ctx, sabotage)
			require.NoError(t, err)
			_, err = postgres.AuditRLS(ctx, db)
			require.ErrorIs(t, err, postgres.ErrAuditFailed)
			require.Contains(t, err.Error(), name)
		})
	}
}

func TestRLSRestrictedRoleHasNoGrantOnBetterAuthTables(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	for _, table := range []string{`"user"`, `"session"`, `"account"`, `"verification"`} {
		var any bool
		require.NoError(t, db.DB.QueryRowContext(ctx,
			`SELECT has_table_privilege($1, 'public.' || $2, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')`,
			postgres.AppRole, table).Scan(&any))
		require.False(t, any, table)

		err := asApp(t, db, nil, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`SELECT 1 FROM public.%s LIMIT 1`, table))
			return err
		})
		requireSQLState(t, err, insufficientPrivilege)
	}
}

// Reliability test 22: nothing gives the restricted role a way around the policies.
func TestRel22_NoLeakyObjects(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)

	var leakyViews int
	require.NoError(t, db.DB.QueryRowContext(ctx, `
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
		  AND NOT coalesce('security_invoker=on' = ANY (c.reloptions) OR 'security_invoker=true' = ANY (c.reloptions), false)`).Scan(&leakyViews))
	require.Zero(t, leakyViews, "every view uses the caller's rights")

	rows, err := db.DB.QueryContext(ctx, `
		SELECT p.proname,
		       coalesce(array_to_string(p.proconfig, ',') LIKE '%search_path=%', false),
		       has_function_privilege('public', p.oid, 'EXECUTE')
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public' AND p.prosecdef`)
	require.NoError(t, err)
	defer rows.Close()
	definers := 0
	for rows.Next() {
		var name string
		var pinned, public bool
		require.NoError(t, rows.Scan(&name, &pinned, &public))
		require.True(t, pinned, "SECURITY DEFINER function %s pins search_path", name)
		require.False(t, public, "PUBLIC cannot execute SECURITY DEFINER function %s", name)
		definers++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 1, definers, "only the session lookup runs with its owner's rights")
}

// Reliability test 23: get-or-create needs the SELECT policy; without it the upsert must
// fail loudly rather than quietly report nothing.
func TestRel23_UpsertNeedsTheSelectPolicy(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	tr := postgres.NewTransactor(db)
	getOrCreate := func(u user.ID) error {
		name, err := account.ParseName(account.DefaultName)
		require.NoError(t, err)
		acc, err := account.New(u, name, time.Now())
		require.NoError(t, err)
		return tr.Within(ctx, u, func(ctx context.Context, r ports.Repositories) error {
			_, _, err := r.Accounts.AddIfAbsent(ctx, acc)
			return err
		})
	}
	require.NoError(t, getOrCreate(pgtest.CreateUser(t, db)))

	_, err := db.DB.ExecContext(ctx, `DROP POLICY user_accounts_select ON user_accounts`)
	require.NoError(t, err)
	err = getOrCreate(pgtest.CreateUser(t, db))
	require.ErrorIs(t, err, domain.ErrNotFound, "42501 from the policy check, mapped")
	requireSQLState(t, err, insufficientPrivilege)
}

// Reliability test 25 (plan only): with RLS on, the per-user query is an index lookup.
func TestRel25_ListUsesTheUserIndex(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	_, err := db.DB.ExecContext(ctx, `
		INSERT INTO "user" (id, name, email, "emailVerified")
		SELECT 'u' || g, 'n', 'u' || g || '@example.test', false FROM generate_series(1, 5000) g;
		INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at)
		SELECT gen_random_uuid(), 'u' || g, 'a', now(), now() FROM generate_series(1, 5000) g;
		ANALYZE user_accounts;`)
	require.NoError(t, err)
	u, err := user.ParseID("u42")
	require.NoError(t, err)

	var plan []string
	err = viaChokepoint(t, db, u, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `EXPLAIN SELECT * FROM user_accounts WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, u.String())
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
	require.Contains(t, strings.Join(plan, "\n"), "user_accounts_user_id_key", strings.Join(plan, "\n"))
}
