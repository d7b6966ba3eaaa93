package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
	"github.com/stretchr/testify/require"
)

func TestListAccountsIsEmptyForNewUser(t *testing.T) {
	u, err := user.ParseID("newcomer")
	require.NoError(t, err)
	store := memory.NewStore()
	got, err := query.NewListAccountsHandler(store.Accounts()).Handle(context.Background(), query.ListAccounts{Session: store.SignIn(u)})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestListAccountsRespectsCancellation(t *testing.T) {
	u, _ := user.ParseID("someone")
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	store := memory.NewStore()
	_, err := query.NewListAccountsHandler(store.Accounts()).Handle(ctx, query.ListAccounts{Session: store.SignIn(u)})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// A session the store does not know (signed out, expired, never issued) is refused before
// anything is read, and one that ends is refused on its very next use.
func TestListAccountsRefusesAnEndedSession(t *testing.T) {
	u, _ := user.ParseID("someone")
	store := memory.NewStore()
	list := query.NewListAccountsHandler(store.Accounts())
	sess := store.SignIn(u)
	_, err := list.Handle(context.Background(), query.ListAccounts{Session: sess})
	require.NoError(t, err)

	store.EndSession(sess.Token())
	_, err = list.Handle(context.Background(), query.ListAccounts{Session: sess})
	require.ErrorIs(t, err, ports.ErrUnauthenticated)

	never, err := user.NewSession("never-issued")
	require.NoError(t, err)
	_, err = list.Handle(context.Background(), query.ListAccounts{Session: never})
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
	_, err = list.Handle(context.Background(), query.ListAccounts{})
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "the zero session is no one")
}
