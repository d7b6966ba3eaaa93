package postgres_test

// Sessions are resolved by the first statement of every transaction (docs/better-auth.md):
// no cache, so every way a session ends is refused on the very next call, and nothing after
// the refused statement runs.

import (
	"context"
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
	"github.com/brokerly/accounts/ports"
)

// adminPluginColumns are what Better Auth's admin plugin adds to "user" and "session".
const adminPluginColumns = `ALTER TABLE "user" ADD COLUMN role text, ADD COLUMN banned boolean,
	ADD COLUMN "banReason" text, ADD COLUMN "banExpires" timestamptz;
	ALTER TABLE "session" ADD COLUMN "impersonatedBy" text`

func TestSessionEndsAreRefusedOnTheNextCall(t *testing.T) {
	for name, tc := range map[string]struct{ end, reason string }{
		"signed out":           {`DELETE FROM "session" WHERE token = $1`, ports.SessionUnknown},
		"expired":              {`UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE token = $1`, ports.SessionExpired},
		"user deleted":         {`DELETE FROM "user" WHERE id = (SELECT "userId" FROM "session" WHERE token = $1)`, ports.SessionUnknown},
		"banned for good":      {adminPluginColumns + `; UPDATE "user" SET banned = true WHERE id = (SELECT "userId" FROM "session" WHERE token = $1)`, ports.SessionBanned},
		"banned for a while":   {adminPluginColumns + `; UPDATE "user" SET banned = true, "banExpires" = now() + interval '1 hour' WHERE id = (SELECT "userId" FROM "session" WHERE token = $1)`, ports.SessionBanned},
		"token moved to a bot": {`UPDATE "session" SET token = token || 'x' WHERE token = $1`, ports.SessionUnknown},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, _ := pgtest.NewDB(t)
			_, s := pgtest.SignIn(t, db)
			acc := addAccount(t, db, s)
			repo := postgres.NewAccountRepo(db)
			_, err := repo.List(testContext(t), s)
			require.NoError(t, err, "the control: the session works")

			superuserExecMulti(t, db, tc.end, s.Token())
			_, err = repo.List(testContext(t), s)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			var refused *ports.SessionRefusedError
			require.ErrorAs(t, err, &refused)
			require.Equal(t, tc.reason, refused.Reason, "the reason, for the metrics")
			_, _, err = postgres.NewCredentialRepo(db).List(testContext(t), s, acc.ID(), credential.Page{Size: 1})
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
		})
	}
}

// The admin plugin's ban only counts while it lasts; without the plugin's columns, or with
// banned false, the session works.
func TestSessionOfAnExpiredOrLiftedBanWorks(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	superuserExec(t, db, adminPluginColumns)
	for _, ban := range []string{
		`UPDATE "user" SET banned = true, "banExpires" = now() - interval '1 second' WHERE id = $1`,
		`UPDATE "user" SET banned = false WHERE id = $1`,
		`UPDATE "user" SET banned = NULL WHERE id = $1`,
	} {
		u, s := pgtest.SignIn(t, db)
		superuserExec(t, db, ban, u.String())
		_, err := postgres.NewAccountRepo(db).List(testContext(t), s)
		require.NoError(t, err, ban)
	}
}

// A refused session stops the whole transaction at its first statement: the write queued
// behind it in the same round trip never happens.
func TestRefusedSessionRunsNothingAfterIt(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	_, s := pgtest.SignIn(t, db)
	acc := addAccount(t, db, s)
	c := addCredential(t, db, s, acc, "Kept")
	before := rowDigest(t, db, "user_credentials", c.ID())
	pgtest.EndSession(t, db, s)

	require.ErrorIs(t, postgres.NewCredentialRepo(db).Delete(testContext(t), s, c.ID()), ports.ErrUnauthenticated)
	_, err := postgres.NewCredentialRepo(db).Update(testContext(t), s, c.ID(), func(c *credential.Credential) error {
		t.Error("change must not run for a refused session")
		return nil
	})
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
	require.Equal(t, before, rowDigest(t, db, "user_credentials", c.ID()))

	// The same through the raw chokepoint: the statement after the context one does not run.
	err = db.AsUser(testContext(t), s, func(ctx context.Context, q *pgx.Conn) error {
		t.Error("nothing runs after a refused session")
		return nil
	})
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
}

// Resolving records whom the session belongs to, for the request's log line.
func TestResolvedSessionRemembersItsUser(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	u, s := pgtest.SignIn(t, db)
	_, ok := s.User()
	require.False(t, ok, "not before a store has resolved it")
	_, err := postgres.NewAccountRepo(db).List(testContext(t), s)
	require.NoError(t, err)
	got, ok := s.User()
	require.True(t, ok)
	require.Equal(t, u, got)
}

// A session resolves to exactly its own user: two sessions of one user share the account,
// and another user's session never sees it.
func TestSessionsOfOneUserShareTheAccount(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	u, first := pgtest.SignIn(t, db)
	second := pgtest.NewSession(t, db, u)
	_, other := pgtest.SignIn(t, db)
	repo := postgres.NewAccountRepo(db)
	open := func(owner user.ID) (account.Account, error) {
		name, err := account.ParseName("Mine")
		if err != nil {
			return account.Account{}, err
		}
		return account.New(owner, name, time.Now())
	}
	mine, created, err := repo.AddIfAbsent(testContext(t), first, open)
	require.NoError(t, err)
	require.True(t, created)
	again, created, err := repo.AddIfAbsent(testContext(t), second, open)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, mine, again)
	theirs, err := repo.List(testContext(t), other)
	require.NoError(t, err)
	require.Empty(t, theirs)
}

// superuserExecMulti runs a fixture that may hold several statements, with $1 = arg.
func superuserExecMulti(t *testing.T, db *postgres.DB, sql, arg string) {
	t.Helper()
	require.NoError(t, db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		for _, stmt := range strings.Split(sql, ";") {
			args := []any{}
			if strings.Contains(stmt, "$1") {
				args = append(args, arg)
			}
			if _, err := q.Exec(ctx, stmt, args...); err != nil {
				return err
			}
		}
		return nil
	}))
}
