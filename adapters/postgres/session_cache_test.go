package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/ports"
)

func startCache(t *testing.T, db *bun.DB, url string) *postgres.SessionCache {
	t.Helper()
	cache, err := postgres.NewSessionCache(postgres.NewSessionStore(db), url, 1000, nil)
	require.NoError(t, err)
	cache.Start()
	t.Cleanup(cache.Stop)
	// Wait until the listener is live, or every lookup is a pass-through and proves nothing.
	require.Eventually(t, cache.Trusted, 5*time.Second, 10*time.Millisecond)
	return cache
}

// hideLookupFunction makes every database lookup fail, so a lookup that succeeds
// afterwards was answered from memory.
func hideLookupFunction(t *testing.T, db *bun.DB) {
	t.Helper()
	_, err := db.DB.ExecContext(testContext(t), `ALTER FUNCTION public.accounts_session_lookup(text) RENAME TO hidden_lookup`)
	require.NoError(t, err)
}

func TestSessionCacheAnswersRepeatedLookupsFromMemory(t *testing.T) {
	db, url := pgtest.NewDB(t)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	token := pgtest.RandomToken()
	pgtest.CreateSession(t, db, alice, token, time.Now().Add(time.Hour))
	cache := startCache(t, db, url)

	got, err := cache.LookupSession(ctx, token)
	require.NoError(t, err)
	require.Equal(t, alice.String(), got)

	hideLookupFunction(t, db)
	got, err = cache.LookupSession(ctx, token)
	require.NoError(t, err, "the second lookup never reached the database")
	require.Equal(t, alice.String(), got)

	_, err = cache.LookupSession(ctx, pgtest.RandomToken())
	require.Error(t, err, "an unknown token still goes to the database")
}

// TestSessionCacheRevocationWithinOneSecond is the bound the cache must keep: a session
// deleted (signed out) or expired by SQL stops working within a second.
func TestSessionCacheRevocationWithinOneSecond(t *testing.T) {
	for name, revoke := range map[string]string{
		"signed out":     `DELETE FROM "session" WHERE token = $1`,
		"expired by SQL": `UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE token = $1`,
		"user deleted":   `DELETE FROM "user" WHERE id = (SELECT "userId" FROM "session" WHERE token = $1)`,
		"truncated":      `TRUNCATE "session"`,
	} {
		t.Run(name, func(t *testing.T) {
			db, url := pgtest.NewDB(t)
			ctx := testContext(t)
			alice := pgtest.CreateUser(t, db)
			token := pgtest.RandomToken()
			pgtest.CreateSession(t, db, alice, token, time.Now().Add(time.Hour))
			cache := startCache(t, db, url)
			_, err := cache.LookupSession(ctx, token)
			require.NoError(t, err)

			var args []any
			if strings.Contains(revoke, "$1") {
				args = append(args, token)
			}
			_, err = db.DB.ExecContext(ctx, revoke, args...)
			require.NoError(t, err)
			revoked := time.Now()
			for {
				if _, err := cache.LookupSession(ctx, token); err != nil {
					require.ErrorIs(t, err, ports.ErrUnauthenticated)
					break
				}
				require.Less(t, time.Since(revoked), postgres.RevocationBound, "still accepted a second after revocation")
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("refused %s after revocation", time.Since(revoked).Round(time.Millisecond))
		})
	}
}

func TestSessionCacheDoesNotServeExpiredEntries(t *testing.T) {
	db, url := pgtest.NewDB(t)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	token := pgtest.RandomToken()
	pgtest.CreateSession(t, db, alice, token, time.Now().Add(300*time.Millisecond))
	cache := startCache(t, db, url)
	_, err := cache.LookupSession(ctx, token)
	require.NoError(t, err)

	time.Sleep(350 * time.Millisecond) // expiry passes; nothing in the database changed
	_, err = cache.LookupSession(ctx, token)
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
}

// TestSessionCacheStopsTrustingALostListener: when the listening connection dies, missed
// notifications cannot be ruled out, so the cache must go back to the database at once.
func TestSessionCacheStopsTrustingALostListener(t *testing.T) {
	db, url := pgtest.NewDB(t)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	token := pgtest.RandomToken()
	pgtest.CreateSession(t, db, alice, token, time.Now().Add(time.Hour))
	cache := startCache(t, db, url)
	_, err := cache.LookupSession(ctx, token)
	require.NoError(t, err)

	var killed int
	require.NoError(t, db.DB.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, postgres.ListenerApplicationName).Scan(&killed))
	require.Equal(t, 1, killed)
	hideLookupFunction(t, db)
	// The session is still valid, but the cache may no longer vouch for it: within the bound
	// lookups go to the database (which now fails).
	require.Eventually(t, func() bool {
		_, err := cache.LookupSession(ctx, token)
		return err != nil
	}, postgres.RevocationBound, 5*time.Millisecond)

	// And the listener comes back by itself.
	require.Eventually(t, cache.Trusted, 10*time.Second, 20*time.Millisecond)
}

func TestSessionCacheWithoutListenerIsAPassThrough(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := testContext(t)
	alice := pgtest.CreateUser(t, db)
	token := pgtest.RandomToken()
	pgtest.CreateSession(t, db, alice, token, time.Now().Add(time.Hour))
	cache, err := postgres.NewSessionCache(postgres.NewSessionStore(db), "postgres://postgres@127.0.0.1:1/none?sslmode=disable", 10, nil)
	require.NoError(t, err)
	cache.Start()
	t.Cleanup(cache.Stop)

	got, err := cache.LookupSession(ctx, token)
	require.NoError(t, err)
	require.Equal(t, alice.String(), got)
	hideLookupFunction(t, db)
	_, err = cache.LookupSession(ctx, token)
	require.Error(t, err, "nothing was cached without a listener")
	require.False(t, cache.Trusted())
}
