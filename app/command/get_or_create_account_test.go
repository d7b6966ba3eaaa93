package command_test

import (
	"context"
	"sync"
	"testing"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/domain/account"
	"github.com/stretchr/testify/require"
)

func TestGetOrCreateCreatesDefaultOnce(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	clock := apptest.NewClock(start)
	getOrCreate := command.NewGetOrCreateAccountHandler(store.Accounts(), clock)
	alice := mustUser(t, "alice")

	first, created, err := getOrCreate.Handle(ctx, command.GetOrCreateAccount{Session: store.SignIn(alice)})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, account.DefaultName, first.Name().String())

	clock.Advance(1)
	again, created, err := getOrCreate.Handle(ctx, command.GetOrCreateAccount{Session: store.SignIn(alice)})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, again)
}

func TestGetOrCreateReturnsExistingNamedAccount(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	clock := apptest.NewClock(start)
	alice := mustUser(t, "alice")
	named, err := command.NewCreateAccountHandler(store.Accounts(), clock).Handle(ctx, command.CreateAccount{Session: store.SignIn(alice), Name: "Mine"})
	require.NoError(t, err)

	got, created, err := command.NewGetOrCreateAccountHandler(store.Accounts(), clock).Handle(ctx, command.GetOrCreateAccount{Session: store.SignIn(alice)})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, named, got)
}

func TestGetOrCreateConcurrentCallsAgree(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	getOrCreate := command.NewGetOrCreateAccountHandler(store.Accounts(), apptest.NewClock(start))
	alice := mustUser(t, "alice")

	type result struct {
		acc     account.Account
		created bool
		err     error
	}
	results := make([]result, 50)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			acc, created, err := getOrCreate.Handle(ctx, command.GetOrCreateAccount{Session: store.SignIn(alice)})
			results[i] = result{acc, created, err}
		})
	}
	wg.Wait()

	createdCount := 0
	for _, r := range results {
		require.NoError(t, r.err)
		require.Equal(t, results[0].acc.ID(), r.acc.ID())
		if r.created {
			createdCount++
		}
	}
	require.Equal(t, 1, createdCount)
}
