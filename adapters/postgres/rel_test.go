package postgres_test

// Reliability tests 16, 24 and 25 beyond what rls_test.go covers: the start-up audit proves
// the role switch from the login role the service really uses, unique constraints are no
// side channel, and the list queries stay index scans under RLS at 100k rows.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// scratchLogin creates a uniquely named LOGIN role (roles are cluster-wide; the real ones
// are shared with concurrent tests and never altered) with the given extra attributes and
// returns a pool on dbURL logged in as it. The pool closes, then the role is dropped.
func scratchLogin(t *testing.T, dbURL, attributes string, grants ...string) *bun.DB {
	t.Helper()
	role := "accounts_rel16_" + strings.ToLower(pgtest.RandomToken()[:12])
	pgtest.Admin(t, `CREATE ROLE `+role+` LOGIN `+attributes)
	t.Cleanup(func() { pgtest.Admin(t, `DROP ROLE IF EXISTS `+role) })
	for _, g := range grants {
		pgtest.Admin(t, strings.ReplaceAll(g, "$role", role))
	}
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.User = url.User(role)
	db, err := postgres.Open(context.Background(), postgres.Config{URL: u.String()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Reliability test 16, the switch: the audit proves it from the login role in use, so a
// superuser or BYPASSRLS login passes only because the switch really drops those rights,
// and a login that cannot switch fails however good the catalogs look.
func TestRel16_AuditProvesTheRoleSwitchFromTheLoginRole(t *testing.T) {
	db, dbURL := pgtest.NewDB(t)
	ctx := testContext(t)

	t.Run("superuser login", func(t *testing.T) {
		report, err := postgres.AuditRLS(ctx, db)
		require.NoError(t, err)
		require.True(t, report.LoginBypassesRLS, "the spec's default login is the postgres superuser")
		require.NotEmpty(t, report.LoginRole)
	})

	t.Run("BYPASSRLS member of accounts_app", func(t *testing.T) {
		login := scratchLogin(t, dbURL, "BYPASSRLS", `GRANT `+postgres.AppRole+` TO $role`)
		report, err := postgres.AuditRLS(ctx, login)
		require.NoError(t, err)
		require.True(t, report.LoginBypassesRLS)
	})

	t.Run("login that cannot switch", func(t *testing.T) {
		login := scratchLogin(t, dbURL, "")
		_, err := postgres.AuditRLS(ctx, login)
		require.ErrorIs(t, err, postgres.ErrAuditFailed)
		require.Contains(t, err.Error(), "cannot run a transaction as "+postgres.AppRole)
		require.Contains(t, err.Error(), "cannot look up sessions")
	})

	t.Run("NOINHERIT member: switches, but cannot look up sessions", func(t *testing.T) {
		login := scratchLogin(t, dbURL, "NOINHERIT", `GRANT `+postgres.AppRole+` TO $role`)
		_, err := postgres.AuditRLS(ctx, login)
		require.ErrorIs(t, err, postgres.ErrAuditFailed)
		require.NotContains(t, err.Error(), "cannot run a transaction")
		require.Contains(t, err.Error(), "cannot look up sessions")
	})

	t.Run("database down is no verdict", func(t *testing.T) {
		down, err := postgres.Open(ctx, postgres.Config{URL: unreachableURL})
		require.NoError(t, err)
		t.Cleanup(func() { _ = down.Close() })
		_, err = postgres.AuditRLS(ctx, down)
		require.ErrorIs(t, err, ports.ErrUnavailable)
		require.NotErrorIs(t, err, postgres.ErrAuditFailed)
	})
}

// Reliability test 16, the probe: a policy the catalog check accepts (one per command, none
// for PUBLIC) but that lets accounts_app see rows without a user context is caught by
// looking, as accounts_app, with no context.
func TestRel16_AuditLooksForRowsWithoutContext(t *testing.T) {
	for _, table := range []string{"user_accounts", "user_credentials"} {
		t.Run(table, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			ctx := testContext(t)
			addCredential(t, db, addAccount(t, db, pgtest.CreateUser(t, db)), "One")
			_, err := postgres.AuditRLS(ctx, db)
			require.NoError(t, err, "rows alone are fine")

			_, err = db.DB.ExecContext(ctx, `CREATE POLICY leak ON `+table+` FOR SELECT TO `+postgres.AppRole+` USING (true)`)
			require.NoError(t, err)
			_, err = postgres.AuditRLS(ctx, db)
			require.ErrorIs(t, err, postgres.ErrAuditFailed)
			require.Contains(t, err.Error(), postgres.AppRole+" sees rows of public."+table+" without a user context")
		})
	}
}

// Reliability test 24: a constraint violation would reveal another user's row (policies are
// not applied to uniqueness checks), so nothing but the caller's own account is unique:
// B reusing A's account name, credential nickname and even key pair succeeds.
func TestRel24_NoUniquenessSideChannel(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	alice, bob := pgtest.CreateUser(t, db), pgtest.CreateUser(t, db)
	tr := postgres.NewTransactor(db)
	name, err := account.ParseName("Same name")
	require.NoError(t, err)
	nick, err := credential.ParseNickname("Same nickname")
	require.NoError(t, err)
	ciphertext := randomSealed("k1") // byte-identical sealed values, the worst case of a fingerprint

	for _, u := range []user.ID{alice, bob} {
		acc, err := account.New(u, name, time.Now())
		require.NoError(t, err)
		draft, err := credential.NewDraft(acc.ID(), u, credential.Alpaca, credential.Paper, &nick, time.Now())
		require.NoError(t, err)
		cred, err := credential.New(draft, ciphertext, ciphertext)
		require.NoError(t, err)
		err = tr.Within(ctx, u, func(ctx context.Context, r ports.Repositories) error {
			if err := r.Accounts.Add(ctx, acc); err != nil {
				return err
			}
			return r.Credentials.Add(ctx, cred)
		})
		require.NoError(t, err, "user %s reuses the other's name, nickname and sealed values", u)
	}

	// The schema itself: every unique index is on the server-made id alone, or scoped by
	// user_id, so no value a user chooses (or derived from a secret) is unique across users.
	rows, err := db.DB.QueryContext(ctx, `
		SELECT i.indexrelid::regclass::text, string_agg(a.attname::text, ',' ORDER BY a.attnum)
		FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indisunique AND i.indrelid IN ('public.user_accounts'::regclass, 'public.user_credentials'::regclass)
		GROUP BY 1 ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var seen []string
	for rows.Next() {
		var index, columns string
		require.NoError(t, rows.Scan(&index, &columns))
		cols := strings.Split(columns, ",")
		seen = append(seen, index)
		require.True(t, slices.Equal(cols, []string{"id"}) || slices.Contains(cols, "user_id"),
			"unique index %s on %v is not scoped to one user", index, cols)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"user_accounts_id_user_id_key", "user_accounts_pkey", "user_accounts_user_id_key", "user_credentials_pkey"}, seen)
}

// Reliability test 25, the plan: with 100k credentials of 1k users, EXPLAIN ANALYZE run as
// accounts_app through the chokepoint shows index scans for exactly the SQL the repositories
// send, and no sequential scan.
func TestRel25_IndexScansAt100kRows(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	seedTenants(t, db, 1000, 100)

	u := mustUser(t, "rel25user0000000000000000000500")
	var accountID string
	require.NoError(t, postgres.NewTransactor(db).Read(ctx, u, func(ctx context.Context, r ports.Repositories) error {
		accs, err := r.Accounts.List(ctx)
		if err != nil || len(accs) != 1 {
			return fmt.Errorf("accounts: %v %v", accs, err)
		}
		accountID = accs[0].ID().String()
		creds, err := r.Credentials.List(ctx, accs[0].ID())
		if err != nil || len(creds) != 100 {
			return fmt.Errorf("credentials: %d %v", len(creds), err)
		}
		return nil
	}))
	require.NotEmpty(t, accountID)

	for q, args := range map[string][]any{
		postgres.ListAccountsSQL:    {u.String()},
		postgres.ListCredentialsSQL: {accountID, u.String()},
	} {
		var plan []string
		err := viaChokepoint(t, db, u, func(ctx context.Context, tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				plan = append(plan, line)
			}
			return rows.Err()
		})
		require.NoError(t, err)
		text := strings.Join(plan, "\n")
		require.Regexp(t, `Index (Only )?Scan using user_(accounts_user_id_key|credentials_account_idx)`, text, q)
		require.NotContains(t, text, "Seq Scan", text)
		t.Logf("%s\n%s", q, text)
	}
}

// Reliability test 25, splinter lint 0003: every function call in a policy is wrapped in a
// scalar subquery, so it runs once per statement (an InitPlan) and not once per row.
func TestRel25_PolicyFunctionsAreWrapped(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	rows, err := db.DB.QueryContext(ctx, `SELECT tablename || '.' || policyname, coalesce(qual, ''), coalesce(with_check, '')
		FROM pg_policies WHERE schemaname = 'public'`)
	require.NoError(t, err)
	defer rows.Close()
	call := regexp.MustCompile(`current_setting\(`)
	wrapped := regexp.MustCompile(`\( SELECT NULLIF\(current_setting\('app\.current_user_id'::text, true\), ''::text\) AS "nullif"\)`)
	checked := 0
	for rows.Next() {
		var name, qual, check string
		require.NoError(t, rows.Scan(&name, &qual, &check))
		for _, expr := range []string{qual, check} {
			require.Equal(t, len(call.FindAllString(expr, -1)), len(wrapped.FindAllString(expr, -1)),
				"%s: every current_setting call is inside (SELECT ...): %s", name, expr)
			checked += len(call.FindAllString(expr, -1))
		}
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, checked, 10, "the policies of both tables were looked at")
}

// seedTenants inserts users rel25user…0001 to …n, one account each and perUser credentials
// each (random sealed bytes: listing never opens them), as the admin role, then analyzes.
func seedTenants(t *testing.T, db *bun.DB, n, perUser int) {
	t.Helper()
	ctx := testContext(t)
	for _, stmt := range []string{
		`INSERT INTO "user" (id, name, email, "emailVerified")
		 SELECT 'rel25user' || lpad(g::text, 22, '0'), 'n', 'rel25-' || g || '@example.test', false FROM generate_series(1, $1::int) g
		 WHERE $2::int IS NOT NULL`,
		`INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at)
		 SELECT gen_random_uuid(), 'rel25user' || lpad(g::text, 22, '0'), 'Account ' || g, now(), now() FROM generate_series(1, $1::int) g
		 WHERE $2::int IS NOT NULL`,
		`INSERT INTO user_credentials (id, user_account_id, user_id, credential_type, environment, nickname,
			api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext, created_at, updated_at)
		 SELECT gen_random_uuid(), a.id, a.user_id, 'alpaca', 'paper', 'key ' || k, 'k1', sha256((a.id::text || k)::bytea),
			'k1', sha256((k || a.id::text)::bytea), now() - k * interval '1 second', now()
		 FROM user_accounts a CROSS JOIN generate_series(1, $2::int) k
		 WHERE $1::int IS NOT NULL`,
	} {
		_, err := db.DB.ExecContext(ctx, stmt, n, perUser)
		require.NoError(t, err)
	}
	_, err := db.DB.ExecContext(ctx, `ANALYZE "user", user_accounts, user_credentials`)
	require.NoError(t, err)
}
