package postgres_test

// The start-up row-level security audit (test 16 of docs/reliability.md): it proves the
// role switch from the login role the service really uses, and notices every way the
// setup can be broken.

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/ports"
)

func TestRel16_RoleAudit(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	_, err := db.Audit(testContext(t))
	require.NoError(t, err)

	// Both roles a transaction switches to: the user-scoped one and the rotation-only one.
	for _, role := range []string{postgres.AppRole, postgres.RotatorRole} {
		var super, bypass, login, inherit bool
		superuser(t, db, `SELECT rolsuper, rolbypassrls, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = $1`,
			[]any{role}, &super, &bypass, &login, &inherit)
		require.False(t, super, role)
		require.False(t, bypass, role)
		require.False(t, login, role)
		require.False(t, inherit, role)

		owned := superuserCount(t, db, `SELECT
			(SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1) +
			(SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = $1) +
			(SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = $1)`, role)
		require.Zero(t, owned, "%s owns nothing (owners bypass RLS unless forced)", role)
	}

	for _, table := range []string{"user_accounts", "user_credentials"} {
		var rls, force bool
		superuser(t, db, `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = ('public.' || $1)::regclass`,
			[]any{table}, &rls, &force)
		require.True(t, rls, table)
		require.True(t, force, table)
	}

	app, rot := postgres.AppRole, postgres.RotatorRole
	for table, want := range map[string][]string{
		"user_accounts": {"DELETE " + app, "INSERT " + app, "SELECT " + app, "UPDATE " + app},
		// One policy per command for the app; the rotator may only read and re-seal.
		"user_credentials": {"DELETE " + app, "INSERT " + app, "SELECT " + app, "SELECT " + rot, "UPDATE " + app, "UPDATE " + rot},
	} {
		var got []string
		require.NoError(t, db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
			rows, err := q.Query(ctx, `SELECT cmd || ' ' || array_to_string(roles, ',') FROM pg_policies
				WHERE schemaname = 'public' AND tablename = $1 ORDER BY 1`, table)
			if err != nil {
				return err
			}
			got, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		}))
		require.Equal(t, want, got, "%s: each policy applies to one restricted role", table)
	}
}

// The audit notices an unsafe role among those it is given. The real roles are cluster-wide
// and shared with concurrently running tests, so a uniquely named scratch role stands in.
func TestRel16_AuditCatchesUnsafeRoles(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	// LOGIN for the audit to see, but CONNECTION LIMIT 0: nobody can actually log in with it.
	unsafe := "accounts_audit_" + strings.ToLower(pgtest.RandomToken()[:12])
	missing := unsafe + "_missing"
	pgtest.Admin(t, `CREATE ROLE `+unsafe+` LOGIN CONNECTION LIMIT 0 BYPASSRLS INHERIT`)
	superuserExec(t, db, `CREATE TABLE scratch_owned (user_id text); ALTER TABLE scratch_owned OWNER TO `+unsafe)
	t.Cleanup(func() {
		_ = db.Raw(context.Background(), func(ctx context.Context, q *pgx.Conn) error {
			_, err := q.Exec(ctx, `DROP TABLE IF EXISTS scratch_owned`)
			return err
		})
		pgtest.Admin(t, `DROP ROLE IF EXISTS `+unsafe)
	})

	_, err := postgres.AuditRLSForRoles(testContext(t), db, []string{postgres.AppRole, unsafe, missing})
	require.ErrorIs(t, err, postgres.ErrAuditFailed)
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

// The audit is only worth running at boot if it notices a broken setup; and once it has
// failed, the gate stays shut: no transaction, no readiness.
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
		"cannot resolve sessions":                          `DROP FUNCTION accounts_no_session(text)`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, _ := pgtest.NewDB(t)
			_, s := pgtest.SignIn(t, db)
			superuserExec(t, db, sabotage)
			_, err := db.Audit(testContext(t))
			require.ErrorIs(t, err, postgres.ErrAuditFailed)
			require.Contains(t, err.Error(), name)

			_, err = postgres.NewAccountRepo(db).List(testContext(t), s)
			require.ErrorIs(t, err, ports.ErrUnavailable, "a failed audit shuts the gate")
			require.ErrorIs(t, db.Ready(testContext(t)), ports.ErrUnavailable)
		})
	}
}

// Until the audit has passed, nothing reaches the service's tables: a database migrated
// but never audited answers 503, and so does its readiness.
func TestGateIsShutUntilTheAuditPasses(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.CloneTemplate(t)
	db, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, s := pgtest.SignIn(t, db)

	_, err = postgres.NewAccountRepo(db).List(testContext(t), s)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = postgres.NewRotationStore(db).Stale(testContext(t), "k1", [16]byte{}, 1)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, db.Ready(testContext(t)), ports.ErrUnavailable)

	_, err = db.Audit(testContext(t))
	require.NoError(t, err)
	_, err = postgres.NewAccountRepo(db).List(testContext(t), s)
	require.NoError(t, err)
	require.NoError(t, db.Ready(testContext(t)))
}

// scratchLogin creates a uniquely named LOGIN role (roles are cluster-wide; the real ones
// are shared with concurrent tests and never altered) with the given extra attributes and
// returns a pool on dbURL logged in as it. The pool closes, then the role is dropped.
func scratchLogin(t *testing.T, db *postgres.DB, dbURL, attributes string, grants ...string) *postgres.DB {
	t.Helper()
	role := "accounts_rel16_" + strings.ToLower(pgtest.RandomToken()[:12])
	pgtest.Admin(t, `CREATE ROLE `+role+` LOGIN `+attributes)
	t.Cleanup(func() {
		superuserExec(t, db, `DROP OWNED BY `+role) // its grants on this database's tables
		pgtest.Admin(t, `DROP ROLE IF EXISTS `+role)
	})
	for _, g := range grants {
		superuserExec(t, db, strings.ReplaceAll(g, "$role", role))
	}
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.User = url.User(role)
	login, err := postgres.Open(context.Background(), postgres.Config{URL: u.String()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = login.Close() })
	return login
}

// The switch: the audit proves it from the login role in use, so a superuser or BYPASSRLS
// login passes only because the switch really drops those rights, and a login that cannot
// switch, or cannot read the sessions, fails however good the catalogs look.
func TestRel16_AuditProvesTheRoleSwitchFromTheLoginRole(t *testing.T) {
	t.Parallel()
	db, dbURL := pgtest.NewDB(t)
	ctx := testContext(t)
	// Readiness and the audit read schema_migrations as the login role, too.
	readSessions := `GRANT SELECT ON public."session", public."user", public.schema_migrations TO $role`

	t.Run("superuser login", func(t *testing.T) {
		report, err := db.Audit(ctx)
		require.NoError(t, err)
		require.True(t, report.LoginBypassesRLS, "the default login is the postgres superuser")
		require.NotEmpty(t, report.LoginRole)
	})

	t.Run("BYPASSRLS member of accounts_app that reads sessions", func(t *testing.T) {
		login := scratchLogin(t, db, dbURL, "BYPASSRLS", `GRANT `+postgres.AppRole+` TO $role`, readSessions)
		report, err := login.Audit(ctx)
		require.NoError(t, err)
		require.True(t, report.LoginBypassesRLS)
	})

	t.Run("login that cannot switch", func(t *testing.T) {
		login := scratchLogin(t, db, dbURL, "", readSessions)
		_, err := login.Audit(ctx)
		require.ErrorIs(t, err, postgres.ErrAuditFailed)
		require.Contains(t, err.Error(), "cannot run a transaction as "+postgres.AppRole)
	})

	t.Run("member that may not read Better Auth's sessions", func(t *testing.T) {
		login := scratchLogin(t, db, dbURL, "NOINHERIT", `GRANT `+postgres.AppRole+` TO $role`, `GRANT SELECT ON public.schema_migrations TO $role`)
		_, err := login.Audit(ctx)
		require.ErrorIs(t, err, postgres.ErrAuditFailed)
		require.NotContains(t, err.Error(), "cannot run a transaction")
		require.Contains(t, err.Error(), "cannot resolve sessions")
	})

	t.Run("database down is no verdict", func(t *testing.T) {
		down, err := postgres.Open(ctx, postgres.Config{URL: unreachableURL})
		require.NoError(t, err)
		t.Cleanup(func() { _ = down.Close() })
		_, err = down.Audit(ctx)
		require.ErrorIs(t, err, ports.ErrUnavailable)
		require.NotErrorIs(t, err, postgres.ErrAuditFailed)
	})
}

// The probe: a policy the catalog check accepts (one per command, none for PUBLIC) but that
// lets accounts_app see rows without a user context is caught by looking, as accounts_app,
// with no context.
func TestRel16_AuditLooksForRowsWithoutContext(t *testing.T) {
	for _, table := range []string{"user_accounts", "user_credentials"} {
		t.Run(table, func(t *testing.T) {
			t.Parallel()
			f := newTenants(t)
			_, err := f.db.Audit(testContext(t))
			require.NoError(t, err, "rows alone are fine")

			superuserExec(t, f.db, `CREATE POLICY leak ON `+table+` FOR SELECT TO `+postgres.AppRole+` USING (true)`)
			_, err = f.db.Audit(testContext(t))
			require.ErrorIs(t, err, postgres.ErrAuditFailed)
			require.Contains(t, err.Error(), postgres.AppRole+" sees rows of public."+table+" without a user context")
		})
	}
}
