package command_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/user"
	"github.com/stretchr/testify/require"
)

var start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func mustUser(t *testing.T, id string) user.ID {
	t.Helper()
	u, err := user.ParseID(id)
	require.NoError(t, err)
	return u
}

func TestCreateAccount(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	create := command.NewCreateAccountHandler(store.Accounts(), apptest.NewClock(start))
	list := query.NewListAccountsHandler(store.Accounts())
	alice := mustUser(t, "alice")

	acc, err := create.Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: "  Main  "})
	require.NoError(t, err)
	require.Equal(t, "Main", acc.Name().String())
	require.Equal(t, alice, acc.Owner())
	require.True(t, acc.Active())
	require.Equal(t, start, acc.CreatedAt())

	got, err := list.Handle(ctx, query.ListAccounts{Session: store.SignIn(alice)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, acc, got[0])
}

func TestCreateAccountTwiceIsAlreadyExists(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	create := command.NewCreateAccountHandler(store.Accounts(), apptest.NewClock(start))
	alice := mustUser(t, "alice")

	_, err := create.Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: "First"})
	require.NoError(t, err)
	_, err = create.Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: "Second"})
	require.ErrorIs(t, err, domain.ErrAlreadyExists)

	got, err := query.NewListAccountsHandler(store.Accounts()).Handle(ctx, query.ListAccounts{Session: store.SignIn(alice)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "First", got[0].Name().String())
}

func TestCreateAccountRefusesBadNameAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	create := command.NewCreateAccountHandler(store.Accounts(), apptest.NewClock(start))
	alice := mustUser(t, "alice")

	for _, name := range []string{"", "   ", "tab\there", string(make([]byte, 300))} {
		_, err := create.Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: name})
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, "%q", name)
		require.Equal(t, "account_name", verr.Field)
	}
	got, err := query.NewListAccountsHandler(store.Accounts()).Handle(ctx, query.ListAccounts{Session: store.SignIn(alice)})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestCreateAccountIsPerUser(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	create := command.NewCreateAccountHandler(store.Accounts(), apptest.NewClock(start))
	list := query.NewListAccountsHandler(store.Accounts())
	alice, bob := mustUser(t, "alice"), mustUser(t, "bob")

	_, err := create.Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: "Alice's"})
	require.NoError(t, err)
	_, err = create.Handle(ctx, command.CreateAccount{Session: store.SignIn(bob), Name: "Bob's"})
	require.NoError(t, err, "another user's account must not block bob")

	got, err := list.Handle(ctx, query.ListAccounts{Session: store.SignIn(bob)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "Bob's", got[0].Name().String())
}

func TestConcurrentCreatesGiveOneAccount(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	create := command.NewCreateAccountHandler(store.Accounts(), apptest.NewClock(start))
	alice := mustUser(t, "alice")

	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = create.Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: "Main"})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		if err == nil {
			created++
			continue
		}
		require.ErrorIs(t, err, domain.ErrAlreadyExists)
	}
	require.Equal(t, 1, created)
}
