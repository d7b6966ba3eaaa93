//go:build faults

package pgtest_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres/pgtest"
)

// TestCluster drives the private cluster through everything the fault tests do to it.
// It needs the PostgreSQL server binaries, hence the faults build tag.
func TestCluster(t *testing.T) {
	c := pgtest.StartCluster(t)

	connect := func(timeout time.Duration) (*pgx.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return pgx.Connect(ctx, c.URL("postgres"))
	}
	ping := func(conn *pgx.Conn, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return conn.Ping(ctx)
	}

	conn, err := connect(10 * time.Second)
	require.NoError(t, err)
	var listen string
	require.NoError(t, conn.QueryRow(context.Background(), "SHOW listen_addresses").Scan(&listen))
	require.Equal(t, "127.0.0.1", listen)

	t.Run("pause is a black hole, resume recovers", func(t *testing.T) {
		c.Pause(t)
		start := time.Now()
		require.Error(t, ping(conn, 500*time.Millisecond), "a paused backend does not answer")
		_, err := connect(500 * time.Millisecond)
		require.Error(t, err, "a paused postmaster does not answer")
		require.Less(t, time.Since(start), 3*time.Second)
		c.Resume(t)
		conn2, err := connect(10 * time.Second)
		require.NoError(t, err)
		require.NoError(t, ping(conn2, 5*time.Second))
		require.NoError(t, conn2.Close(context.Background()))
	})

	t.Run("terminate backends", func(t *testing.T) {
		victim, err := connect(10 * time.Second)
		require.NoError(t, err)
		require.GreaterOrEqual(t, c.TerminateBackends(t, "postgres"), 1)
		err = ping(victim, 5*time.Second)
		require.Error(t, err)
	})

	t.Run("restart ends sessions and comes back", func(t *testing.T) {
		before, err := connect(10 * time.Second)
		require.NoError(t, err)
		c.Restart(t)
		require.Error(t, ping(before, 5*time.Second), "the old session is gone")
		after, err := connect(10 * time.Second)
		require.NoError(t, err)
		require.NoError(t, after.Close(context.Background()))
	})

	t.Run("stop refuses connections, start accepts them", func(t *testing.T) {
		c.Stop(t, "fast")
		_, err := connect(5 * time.Second)
		var connectErr *pgconn.ConnectError
		require.True(t, errors.As(err, &connectErr), "%v", err)
		_, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port())), time.Second)
		require.Error(t, err, "nothing listens")
		c.Start(t)
		conn, err := connect(10 * time.Second)
		require.NoError(t, err)
		require.NoError(t, conn.Close(context.Background()))
	})

	t.Run("cleanup copes with a paused cluster", func(t *testing.T) {
		c.Pause(t) // left paused: StartCluster's cleanup resumes and stops it
	})
}
