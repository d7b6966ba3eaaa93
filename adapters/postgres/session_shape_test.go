package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// The context statement reads Better Auth's optional columns by name once it has seen them
// in the catalogs, and follows every change of those tables on the very next call: the
// plugin's columns added (a ban and an impersonation count at once), one dropped, one of
// an unexpected type (then it reads them the generic way).
func TestTheContextStatementFollowsBetterAuthsTables(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	alice, s := pgtest.SignIn(t, db)
	accounts := postgres.NewAccountRepo(db)
	list := func(s user.Session) error {
		_, err := accounts.List(testContext(t), s)
		return err
	}

	require.NoError(t, list(s))
	core := postgres.SessionContextSQL(db)
	require.NotContains(t, core, "to_jsonb", "the core tables are read by name")
	require.Contains(t, core, "accounts_session_shape_is(")
	require.NotContains(t, core, "impersonatedBy")

	// The admin plugin's migration runs while the service does; a ban counts at once.
	pgtest.Exec(t, db, pgtest.AdminPluginColumns)
	pgtest.Exec(t, db, `UPDATE "user" SET banned = true WHERE id = ?`, alice.String())
	var refused *ports.SessionRefusedError
	require.ErrorAs(t, list(s), &refused)
	require.Equal(t, ports.SessionBanned, refused.Reason)
	plugin := postgres.SessionContextSQL(db)
	require.Contains(t, plugin, `u.banned IS TRUE`)
	require.Contains(t, plugin, `s."impersonatedBy"`)
	require.NotContains(t, plugin, "to_jsonb")
	pgtest.Exec(t, db, `UPDATE "user" SET banned = false WHERE id = ?`, alice.String())
	admin, imp := pgtest.Impersonate(t, db, alice)
	require.NoError(t, list(imp))
	actor, _ := imp.Actor()
	require.Equal(t, user.Actor{User: alice, ImpersonatedBy: admin}, actor)

	// A column goes away: the statement that named it is replaced on the next call.
	pgtest.Exec(t, db, `ALTER TABLE "session" DROP COLUMN "impersonatedBy"`)
	require.NoError(t, list(s))
	require.NotContains(t, postgres.SessionContextSQL(db), "impersonatedBy")

	// A column of a type the plugin does not give it: read the generic way, still refused.
	pgtest.Exec(t, db, `ALTER TABLE "user" ALTER COLUMN banned TYPE text USING banned::text`)
	pgtest.Exec(t, db, `UPDATE "user" SET banned = 'true' WHERE id = ?`, alice.String())
	require.ErrorAs(t, list(s), &refused)
	require.Equal(t, ports.SessionBanned, refused.Reason)
	require.Equal(t, postgres.GenericSessionContextSQL, postgres.SessionContextSQL(db))
}

// Every reason still holds on the statement that reads by name.
func TestTheShapedStatementRefusesLikeTheGenericOne(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	pgtest.Exec(t, db, pgtest.AdminPluginColumns)
	u, s := pgtest.SignIn(t, db)
	_, err := postgres.NewAccountRepo(db).List(testContext(t), s) // learns the plugin's columns
	require.NoError(t, err)
	require.Contains(t, postgres.SessionContextSQL(db), `u."banExpires"`)

	for _, tc := range []struct{ sql, reason string }{
		{`UPDATE "user" SET banned = true, "banExpires" = now() + interval '1 hour' WHERE id = ?`, ports.SessionBanned},
		{`UPDATE "user" SET banned = true, "banExpires" = now() - interval '1 second' WHERE id = ?`, ""},
		{`UPDATE "user" SET banned = NULL, "banExpires" = NULL WHERE id = ?`, ""},
		{`UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE "userId" = ?`, ports.SessionExpired},
		{`DELETE FROM "session" WHERE "userId" = ?`, ports.SessionUnknown},
	} {
		pgtest.Exec(t, db, tc.sql, u.String())
		_, err := postgres.NewAccountRepo(db).List(testContext(t), s)
		if tc.reason == "" {
			require.NoError(t, err, tc.sql)
			continue
		}
		var refused *ports.SessionRefusedError
		require.ErrorAs(t, err, &refused, tc.sql)
		require.Equal(t, tc.reason, refused.Reason, tc.sql)
	}
}
