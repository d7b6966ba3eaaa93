package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/ports"
)

func TestLookupSession(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	store := postgres.NewSessionStore(db)
	alice := pgtest.CreateUser(t, db)

	live, expired, deleted := pgtest.RandomToken(), pgtest.RandomToken(), pgtest.RandomToken()
	pgtest.CreateSession(t, db, alice, live, time.Now().Add(time.Hour))
	pgtest.CreateSession(t, db, alice, expired, time.Now().Add(-time.Second))
	pgtest.CreateSession(t, db, alice, deleted, time.Now().Add(time.Hour))
	_, err := db.DB.ExecContext(ctx, `DELETE FROM "session" WHERE token = $1`, deleted)
	require.NoError(t, err)

	got, err := store.LookupSession(ctx, live)
	require.NoError(t, err)
	require.Equal(t, alice.String(), got)

	for name, token := range map[string]string{
		"expired":       expired,
		"deleted":       deleted,
		"unknown":       pgtest.RandomToken(),
		"empty":         "",
		"NUL byte":      live[:10] + "\x00",
		"invalid UTF-8": "\xff\xfe",
		"oversized":     strings.Repeat("a", 10_000),
		"SQL-ish":       "' OR 1=1 --",
	} {
		t.Run(name, func(t *testing.T) {
			uid, err := store.LookupSession(ctx, token)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			require.Empty(t, uid)
		})
	}

	t.Run("DeletedUser", func(t *testing.T) {
		bob := pgtest.CreateUser(t, db)
		token := pgtest.RandomToken()
		pgtest.CreateSession(t, db, bob, token, time.Now().Add(time.Hour))
		_, err := db.DB.ExecContext(ctx, `DELETE FROM "user" WHERE id = $1`, bob.String())
		require.NoError(t, err)
		_, err = store.LookupSession(ctx, token)
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
	})
}

func TestLookupSessionDatabaseDown(t *testing.T) {
	db, err := postgres.Open(context.Background(), postgres.Config{URL: unreachableURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = postgres.NewSessionStore(db).LookupSession(testContext(t), pgtest.RandomToken())
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

func TestSessionFunctionIsLockedDown(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	const fn = "public.accounts_session_lookup(text)"

	var definer bool
	var volatility, config string
	require.NoError(t, db.DB.QueryRowContext(ctx,
		`SELECT prosecdef, provolatile::text, array_to_string(proconfig, ',') FROM pg_proc WHERE oid = $1::regprocedure`, fn).
		Scan(&definer, &volatility, &config))
	require.True(t, definer)
	require.Equal(t, "s", volatility, "STABLE")
	require.Equal(t, "search_path=pg_catalog, pg_temp", config, "search_path is pinned")

	var public, app bool
	require.NoError(t, db.DB.QueryRowContext(ctx,
		`SELECT has_function_privilege('public', $1::regprocedure, 'EXECUTE'),
		        has_function_privilege($2, $1::regprocedure, 'EXECUTE')`, fn, postgres.AppRole).Scan(&public, &app))
	require.False(t, public, "PUBLIC cannot execute it")
	require.True(t, app, "the restricted role can")

	// The restricted role resolves sessions through it without any grant on the tables.
	alice := pgtest.CreateUser(t, db)
	token := pgtest.RandomToken()
	pgtest.CreateSession(t, db, alice, token, time.Now().Add(time.Hour))
	err := asApp(t, db, nil, func(ctx context.Context, tx *sql.Tx) error {
		var uid sql.NullString
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT user_id FROM public.accounts_session_lookup($1)`, token).Scan(&uid))
		require.Equal(t, alice.String(), uid.String)
		return nil
	})
	require.NoError(t, err)
}
