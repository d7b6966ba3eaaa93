package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/ports"
)

// Nothing listens on port 1; connecting fails at once.
const unreachableURL = "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"

func TestOpenDoesNotConnect(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(context.Background(), postgres.Config{URL: unreachableURL})
	require.NoError(t, err, "the service must start while the database is down")
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Audit(testContext(t))
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, db.Ready(testContext(t)), ports.ErrUnavailable)
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"", "postgres://user:s3cret@host:notaport/db"} {
		_, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret")
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	migrated, _ := pgtest.NewDB(t)
	require.NoError(t, migrated.Ready(testContext(t)))

	empty, _ := pgtest.NewEmptyDB(t)
	_, err := empty.Audit(testContext(t))
	require.ErrorContains(t, err, "not applied", "no verdict on a database that is not migrated")
	require.NotErrorIs(t, err, postgres.ErrAuditFailed)
	require.Error(t, empty.Ready(testContext(t)))
}

// TestPoolAcquireTimeout: the pool is bounded (8 by default) and a caller that finds every
// connection busy gets ports.ErrTimeout after AcquireTimeout instead of waiting for its
// own deadline (design rule 12, test 37).
func TestPoolAcquireTimeout(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewDB(t)
	const acquireTimeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name     string
		maxConns int
		want     int
	}{{"default bound", 0, 8}, {"configured bound", 2, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL, MaxOpenConns: tc.maxConns, AcquireTimeout: acquireTimeout})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			ctx := testContext(t)
			require.Equal(t, tc.want, db.PoolStats().Max)

			var held []func()
			for range tc.want {
				release, err := db.Hold(ctx)
				require.NoError(t, err)
				held = append(held, release)
			}
			start := time.Now()
			_, err = db.Hold(ctx)
			waited := time.Since(start)
			require.ErrorIs(t, err, ports.ErrTimeout, "one more than the bound waits, then times out")
			require.NotErrorIs(t, err, ports.ErrUnavailable)
			require.GreaterOrEqual(t, waited, acquireTimeout)
			require.Less(t, waited, acquireTimeout+time.Second)

			held[0]()
			release, err := db.Hold(ctx)
			require.NoError(t, err, "a released connection is handed out again")
			release()
			for _, r := range held[1:] {
				r()
			}
		})
	}
}

// TestPoolCallerDeadlineAndClose: a caller deadline shorter than AcquireTimeout is reported as
// the caller's own, and Close closes the pool so later calls are unavailable, not hung.
func TestPoolCallerDeadlineAndClose(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewDB(t)
	db, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL, MaxOpenConns: 1, AcquireTimeout: 5 * time.Second})
	require.NoError(t, err)
	release, err := db.Hold(testContext(t))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(testContext(t), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = db.Hold(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)

	release()
	require.NoError(t, db.Close())
	_, err = db.Hold(testContext(t))
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

// TestPoolCloseDoesNotHangOnALeakedConnection: Close waits a little for borrowed
// connections, then reports them instead of blocking the caller (a shutdown, a test's
// cleanup) forever; the leaked connection still closes when it is released.
func TestPoolCloseDoesNotHangOnALeakedConnection(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewDB(t)
	db, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL})
	require.NoError(t, err)
	leaked, err := db.Hold(testContext(t))
	require.NoError(t, err)

	start := time.Now()
	err = db.Close()
	require.ErrorContains(t, err, "1 connections still in use")
	require.Less(t, time.Since(start), 5*time.Second)
	leaked()
}
