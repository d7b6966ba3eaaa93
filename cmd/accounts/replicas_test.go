package main

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// Two instances of the service on one database are one service: they share no state but
// the database, so traffic spread across them behaves as if it met one instance
// (docs/scaling.md).
func TestTwoReplicasAreOneService(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	first := servicetest.Start(t, dbURL)
	second := servicetest.StartArgs(t, []string{"serve"}, dbURL) // the schema is there already
	requireReplicasAgree(t, dbURL, []*servicetest.Service{first, second})
}

// requireReplicasAgree sends interleaved traffic of several users to every replica and
// checks that no response names another user's row, that concurrent get-or-create calls
// spread over the replicas create one account, and that a sign-out is refused by every
// replica on its very next request.
func requireReplicasAgree(t *testing.T, dbURL string, replicas []*servicetest.Service) {
	t.Helper()
	const users, rounds = 6, 5
	sessions := servicetest.Users(t, dbURL, "replica", users)
	c := poolClient(t)

	// Interleaved: user i's request r goes to replica (i+r) mod n, all users at once.
	accounts := make([]string, users)
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Go(func() {
			for r := range rounds {
				svc := replicas[(i+r)%len(replicas)]
				res := send(c, "POST", svc.URL+"/api/accounts/get-or-create", "", "Cookie", s.Cookie(), "Origin", relOrigin)
				var body struct {
					Account struct {
						ID     string `json:"id"`
						UserID string `json:"user_id"`
					} `json:"account"`
				}
				if res.err != nil || res.status != 200 || jsonUnmarshal(res.body, &body) != nil {
					fail("user %d round %d: get-or-create %d %v %s", i, r, res.status, res.err, res.body)
					return
				}
				if body.Account.UserID != s.UserID {
					fail("user %d got user %s's account", i, body.Account.UserID)
				}
				if accounts[i] == "" {
					accounts[i] = body.Account.ID
				} else if accounts[i] != body.Account.ID {
					fail("user %d: account %s, then %s", i, accounts[i], body.Account.ID)
				}
				store := fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AK%d","secret_key":"SK"}`, body.Account.ID, r)
				if res := send(c, "POST", svc.URL+"/api/credentials/store", store, "Cookie", s.Cookie(), "Origin", relOrigin); res.status != 201 {
					fail("user %d round %d: store %d %s", i, r, res.status, res.body)
				}
				other := replicas[(i+r+1)%len(replicas)]
				list := send(c, "GET", other.URL+"/api/credentials?account_id="+body.Account.ID, "", "Cookie", s.Cookie())
				var page struct {
					Credentials []struct {
						AccountID string `json:"account_id"`
					} `json:"credentials"`
				}
				if list.status != 200 || jsonUnmarshal(list.body, &page) != nil || len(page.Credentials) != r+1 {
					fail("user %d round %d: the other replica lists %d %s", i, r, list.status, list.body)
				}
				for _, cred := range page.Credentials {
					if cred.AccountID != body.Account.ID {
						fail("user %d sees a credential of account %s", i, cred.AccountID)
					}
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, failures)
	require.Equal(t, users, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id LIKE 'replica-%'`))
	require.Equal(t, users*rounds, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_credentials WHERE user_id LIKE 'replica-%'`))

	// Exactly once across replicas: a fresh user's concurrent get-or-create calls, spread
	// over every replica, create one account, and all of them name it.
	fresh := servicetest.SignIn(t, dbURL, "replica-fresh")[0]
	const calls = 40
	results := parallel(calls, func(i int) rawResponse {
		return send(c, "POST", replicas[i%len(replicas)].URL+"/api/accounts/get-or-create", "", "Cookie", fresh.Cookie(), "Origin", relOrigin)
	})
	created, ids := 0, map[string]bool{}
	for _, r := range results {
		require.NoError(t, r.err)
		require.Equal(t, 200, r.status, r.body)
		var body struct {
			Account struct{ ID string } `json:"account"`
			Created bool                `json:"created"`
		}
		require.NoError(t, jsonUnmarshal(r.body, &body))
		ids[body.Account.ID] = true
		if body.Created {
			created++
		}
	}
	require.Equal(t, 1, created, "exactly one call, on whichever replica, created the account")
	require.Len(t, ids, 1)
	require.Equal(t, 1, servicetest.Count(t, dbURL, `SELECT count(*) FROM user_accounts WHERE user_id = 'replica-fresh'`))

	// A sign-out reaches every replica at once: nothing is cached anywhere.
	gone := sessions[0]
	for _, svc := range replicas {
		require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", gone.Cookie()).status)
	}
	servicetest.Exec(t, dbURL, `DELETE FROM "session" WHERE token = $1`, gone.Token)
	for i, svc := range replicas {
		require.Equal(t, 401, request(t, svc, "GET", "/api/accounts", "", "Cookie", gone.Cookie()).status,
			"replica %d refuses the signed-out session on its next request", i)
	}
}
