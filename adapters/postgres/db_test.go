package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/ports"
)

// Nothing listens on port 1; connecting fails at once.
const unreachableURL = "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"

func TestOpenDoesNotConnect(t *testing.T) {
	db, err := postgres.Open(context.Background(), postgres.Config{URL: unreachableURL})
	require.NoError(t, err, "the service must start while the database is down")
	t.Cleanup(func() { _ = db.Close() })
	require.Equal(t, 8, db.DB.Stats().MaxOpenConnections, "bounded by default")

	err = postgres.Ready(testContext(t), db)
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	for _, url := range []string{"", "postgres://user:s3cret@host:notaport/db"} {
		_, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret")
	}
}

func TestReady(t *testing.T) {
	migrated, _ := pgtest.NewDB(t)
	require.NoError(t, postgres.Ready(testContext(t), migrated))

	empty, _ := pgtest.NewEmptyDB(t)
	err := postgres.Ready(testContext(t), empty)
	require.Error(t, err)
	require.Contains(t, err.Error(), "not applied")
}
