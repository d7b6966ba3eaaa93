package httpadapter

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain/user"
)

// parallel runs n copies of req at once and returns their responses' statuses and bodies.
func (e *env) parallel(n int, mk func(i int) *http.Request) (statuses []int, bodies [][]byte) {
	e.t.Helper()
	statuses, bodies = make([]int, n), make([][]byte, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		req := mk(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := e.send(e.t, req, checkRequest)
			if err != nil {
				statuses[i] = -1
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			bodies[i] = readBody(e.t, resp)
		}()
	}
	close(start)
	wg.Wait()
	return statuses, bodies
}

// Tests 13 and 14 of docs/reliability.md: concurrent creates for one user: one 201, the rest 409.
func TestCreateAccount_ParallelCreatesOne201RestAre409(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 30
	statuses, _ := e.parallel(n, func(i int) *http.Request {
		return newRequest(http.MethodPost, "/api/accounts", fmt.Sprintf(`{"account_name":"acct %d"}`, i), asBrowserA())
	})
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusConflict: n - 1}, count)
	assert.Len(t, e.accountsOf(userA), 1)
}

// Test 15 of docs/reliability.md: concurrent get-or-create calls agree on one account, exactly one
// of them created it; again with the row already there.
func TestGetOrCreate_ParallelCallsCreateExactlyOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 50
	for round, wantCreated := range []int{1, 0} {
		statuses, bodies := e.parallel(n, func(int) *http.Request {
			return newRequest(http.MethodPost, "/api/accounts/get-or-create", "", withCookie(secureCookie, cookieA), withOrigin(allowedOrigin))
		})
		ids, created := map[string]bool{}, 0
		for i := range n {
			require.Equal(t, http.StatusOK, statuses[i], "round %d: %s", round, bodies[i])
			var r GetOrCreateResult
			require.NoError(t, jsonUnmarshal(bodies[i], &r))
			ids[r.Account.ID] = true
			if r.Created {
				created++
			}
		}
		assert.Len(t, ids, 1, "round %d: one id", round)
		assert.Equal(t, wantCreated, created, "round %d", round)
		assert.Len(t, e.accountsOf(userA), 1)
	}
}

// Test 31: with Fiber reusing request buffers, each stored name is exactly the
// one its request sent, and each row belongs to the session that sent it.
func TestCreateAccount_ParallelUsersKeepTheirOwnNames(t *testing.T) {
	t.Parallel()
	const n = 200
	e := newEnv(t)
	users := make([]user.ID, n)
	for i := range n {
		users[i] = mustUser(fmt.Sprintf("user%04d", i))
		e.addSession(fmt.Sprintf("session-%04d.sig", i), users[i])
	}
	statuses, bodies := e.parallel(n, func(i int) *http.Request {
		return newRequest(http.MethodPost, "/api/accounts", fmt.Sprintf(`{"account_name":"name of %04d"}`, i),
			withBearer(fmt.Sprintf("session-%04d.sig", i)), withJSON())
	})
	var sent, stored []string
	for i := range n {
		require.Equal(t, http.StatusCreated, statuses[i], "%s", bodies[i])
		var got UserAccount
		require.NoError(t, jsonUnmarshal(bodies[i], &got))
		assert.Equal(t, fmt.Sprintf("name of %04d", i), got.AccountName)
		assert.Equal(t, users[i].String(), got.UserID)
		sent = append(sent, fmt.Sprintf("name of %04d", i))
		accs := e.accountsOf(users[i])
		require.Len(t, accs, 1)
		stored = append(stored, accs[0].Name().String())
	}
	sort.Strings(stored)
	assert.Equal(t, sent, stored)
}
