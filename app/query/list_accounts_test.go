package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/user"
	"github.com/stretchr/testify/require"
)

func TestListAccountsIsEmptyForNewUser(t *testing.T) {
	u, err := user.ParseID("newcomer")
	require.NoError(t, err)
	got, err := query.NewListAccountsHandler(memory.NewStore()).Handle(context.Background(), query.ListAccounts{Actor: u})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestListAccountsRespectsCancellation(t *testing.T) {
	u, _ := user.ParseID("someone")
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := query.NewListAccountsHandler(memory.NewStore()).Handle(ctx, query.ListAccounts{Actor: u})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
