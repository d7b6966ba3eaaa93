package postgres_test

// Tests 24 and 25 of docs/reliability.md beyond what rls_test.go covers: unique constraints
// are no side channel, and every policy's function call runs once per statement.

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// Test 24: a constraint violation would reveal another user's row (policies are not applied
// to uniqueness checks), so nothing but the caller's own account is unique: B reusing A's
// account name, credential nickname and even key pair succeeds.
func TestRel24_NoUniquenessSideChannel(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	name, err := account.ParseName("Same name")
	require.NoError(t, err)
	nick, err := credential.ParseNickname("Same nickname")
	require.NoError(t, err)
	ciphertext := randomSealed("k1") // byte-identical sealed values, the worst case of a fingerprint

	for range 2 {
		u, s := pgtest.SignIn(t, db)
		acc, err := postgres.NewAccountRepo(db).Add(ctx, s, func(owner user.ID) (account.Account, error) {
			return account.New(owner, name, time.Now())
		})
		require.NoError(t, err, "user %s reuses the other's account name", u)
		_, err = postgres.NewCredentialRepo(db).Add(ctx, s, acc.ID(), credential.DefaultPerAccount, func(owner user.ID) (credential.Credential, error) {
			draft, err := credential.NewDraft(acc.ID(), owner, credential.Alpaca, credential.Paper, &nick, time.Now())
			if err != nil {
				return credential.Credential{}, err
			}
			return credential.New(draft, ciphertext, ciphertext)
		})
		require.NoError(t, err, "user %s reuses the other's nickname and sealed values", u)
	}

	// The schema itself: every unique index is on the server-made id alone, or scoped by
	// user_id, so no value a user chooses (or derived from a secret) is unique across users.
	type index struct{ Name, Columns string }
	var seen []string
	require.NoError(t, db.Raw(ctx, func(ctx context.Context, q *pgx.Conn) error {
		rows, err := q.Query(ctx, `
			SELECT i.indexrelid::regclass::text, string_agg(a.attname::text, ',' ORDER BY a.attnum)
			FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indisunique AND i.indrelid IN ('public.user_accounts'::regclass, 'public.user_credentials'::regclass)
			GROUP BY 1 ORDER BY 1`)
		if err != nil {
			return err
		}
		indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
		for _, ix := range indexes {
			cols := strings.Split(ix.Columns, ",")
			seen = append(seen, ix.Name)
			require.True(t, slices.Equal(cols, []string{"id"}) || slices.Contains(cols, "user_id"),
				"unique index %s on %v is not scoped to one user", ix.Name, cols)
		}
		return err
	}))
	require.Equal(t, []string{"user_accounts_id_user_id_key", "user_accounts_pkey", "user_accounts_user_id_key", "user_credentials_pkey"}, seen)
}

// Test 25, splinter lint 0003: every function call in a policy is wrapped in a scalar
// subquery, so it runs once per statement (an InitPlan) and not once per row.
func TestRel25_PolicyFunctionsAreWrapped(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	type policy struct{ Name, Qual, Check string }
	var policies []policy
	require.NoError(t, db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		rows, err := q.Query(ctx, `SELECT tablename || '.' || policyname, coalesce(qual, ''), coalesce(with_check, '')
			FROM pg_policies WHERE schemaname = 'public'`)
		if err != nil {
			return err
		}
		policies, err = pgx.CollectRows(rows, pgx.RowToStructByPos[policy])
		return err
	}))
	call := regexp.MustCompile(`current_setting\(`)
	wrapped := regexp.MustCompile(`\( SELECT NULLIF\(current_setting\('app\.(current_user_id|impersonated_by)'::text, true\), ''::text\) AS "nullif"\)`)
	checked := 0
	for _, p := range policies {
		for _, expr := range []string{p.Qual, p.Check} {
			require.Equal(t, len(call.FindAllString(expr, -1)), len(wrapped.FindAllString(expr, -1)),
				"%s: every current_setting call is inside (SELECT ...): %s", p.Name, expr)
			checked += len(call.FindAllString(expr, -1))
		}
	}
	require.GreaterOrEqual(t, checked, 10, "the policies of both tables were looked at")
}
