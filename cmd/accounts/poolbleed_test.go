package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerly/accounts/internal/servicetest"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Test 20 of docs/reliability.md (pool bleed) over HTTP: with a one-connection pool every request of
// every user, and every rolled-back transaction, runs on the same PostgreSQL session. If
// anything of a user's context outlived its transaction (a session-level SET, a role that
// was not reset, a transaction left open by a failed write), a later request on that session
// would see another user's rows. The adapter-level half of test 20 (after every WithUser,
// committed or rolled back, current_setting('app.current_user_id', true) is '' and
// current_user is the login role, on a one-connection pool) is
// adapters/postgres TestRLSNothingLeaksThroughAOneConnectionPool.
//
// The same workload runs through PgBouncer in transaction pooling mode in
// TestPgBouncerTransactionPooling (pgbouncer_test.go, build tag faults).

const (
	bleedRequests = 1000
	bleedWorkers  = 8
	bleedTenants  = 4
	bleedOrigin   = "http://app.test" // in startService's CORS_ALLOWED_ORIGINS
	// bleedDeadline bounds the whole interleaved run; it takes a few seconds.
	bleedDeadline = 3 * time.Minute
)

func TestRel20_PoolBleedOverHTTP(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "DB_MAX_CONNS=1")
	tenants := seedTenants(t, svc, dbURL, bleedTenants)

	// Watch the service's sessions for the whole run: proof that the pool really had one
	// connection, so every request shared it.
	stopWatch := watchBackends(t, dbURL)
	counts := interleaveRequests(t, svc.URL, tenants, bleedRequests, bleedWorkers)
	maxBackends := stopWatch()
	t.Logf("requests by kind: %v", counts)
	require.Equal(t, 1, maxBackends, "the service used exactly one database session during the run")

	requireTenantRowsUnchanged(t, dbURL, tenants)

	// The pooled session is back at rest: no transaction left open by a failed write.
	var pids []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid::text || ' ' || coalesce(state, '') || ' ' || (xact_start IS NULL)::text
		FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
	require.NoError(t, err)
	pids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Len(t, pids, 1, "the pool keeps its one idle session: %v", pids)
	require.True(t, strings.HasSuffix(pids[0], " idle true"), "the service's session is idle, not idle in transaction: %s", pids[0])

	require.Equal(t, 0, svc.Stop(t))
	require.NotContains(t, svc.Logs.String(), `"status":500`)
}

// tenant is one user of the interleaving tests and everything that belongs to them.
type tenant struct {
	UserID       string
	cookie       string
	accountID    string
	credentialID string
}

// seedTenants creates n users, each with a session, an account and one credential, through
// the service. dbURL is the database itself (superuser), never a pooler in front of it.
func seedTenants(t *testing.T, svc *servicetest.Service, dbURL string, n int) []tenant {
	t.Helper()
	out := make([]tenant, n)
	for i := range out {
		var b [8]byte
		_, _ = crand.Read(b[:])
		// Same length and random: no id is a substring of another, which the raw-body
		// check below relies on.
		tn := tenant{UserID: "bleed-" + hex.EncodeToString(b[:])}
		tn.cookie = cookieFor(t, dbURL, tn.UserID)

		res := request(t, svc, "POST", "/api/accounts/get-or-create", "", "Cookie", tn.cookie, "Origin", bleedOrigin)
		require.Equal(t, 200, res.status, res.raw)
		tn.accountID = res.body["account"].(map[string]any)["id"].(string)

		res = request(t, svc, "POST", "/api/credentials/store",
			fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AKBLEED%d","secret_key":"secret-%d","nickname":"own"}`, tn.accountID, i, i),
			"Cookie", tn.cookie, "Origin", bleedOrigin)
		require.Equal(t, 201, res.status, res.raw)
		tn.credentialID = res.body["id"].(string)
		out[i] = tn
	}
	return out
}

// requireTenantRowsUnchanged: the failing writes of the run created and changed nothing.
func requireTenantRowsUnchanged(t *testing.T, dbURL string, tenants []tenant) {
	t.Helper()
	var accounts, credentials, renamed int
	servicetest.QueryRow(t, dbURL, `SELECT (SELECT count(*) FROM user_accounts), (SELECT count(*) FROM user_credentials),
		(SELECT count(*) FROM user_credentials WHERE nickname <> 'own')`, &accounts, &credentials, &renamed)
	require.Equal(t, len(tenants), accounts, "one account per user, none added by the failing writes")
	require.Equal(t, len(tenants), credentials, "one credential per user, none stored under a foreign account")
	require.Zero(t, renamed, "no credential was changed by another user")
}

// bleedRequest is one request of the interleaved run and what its answer must be.
type bleedRequest struct {
	kind, method, path, body string
	auth                     string // Cookie header; "" is none
	want                     int
	check                    func(body map[string]any) error // for 200s: the body belongs to the requester
}

// nextBleedRequest picks kind and users at random: reads and writes of the requester,
// writes that fail after the transaction has begun (and so roll back), and requests with no
// or an unknown session.
func nextBleedRequest(rng *rand.Rand, tenants []tenant) bleedRequest {
	me := tenants[rng.IntN(len(tenants))]
	victim := tenants[rng.IntN(len(tenants))]
	for victim.UserID == me.UserID {
		victim = tenants[rng.IntN(len(tenants))]
	}
	switch rng.IntN(11) {
	case 0:
		return bleedRequest{kind: "list accounts", method: "GET", path: "/api/accounts", auth: me.cookie, want: 200,
			check: func(b map[string]any) error { return ownAccountList(b, me) }}
	case 1:
		return bleedRequest{kind: "get-or-create", method: "POST", path: "/api/accounts/get-or-create", auth: me.cookie, want: 200,
			check: func(b map[string]any) error {
				if b["created"] != false {
					return fmt.Errorf("created = %v, want false", b["created"])
				}
				acc, _ := b["account"].(map[string]any)
				return ownAccount(acc, me)
			}}
	case 2:
		return bleedRequest{kind: "list credentials", method: "GET", path: "/api/credentials?account_id=" + me.accountID, auth: me.cookie, want: 200,
			check: func(b map[string]any) error { return ownCredentialList(b, me) }}
	case 3:
		// The INSERT fails on the unique user_id: an aborted transaction, rolled back.
		return bleedRequest{kind: "second account (409)", method: "POST", path: "/api/accounts",
			body: `{"account_name":"second"}`, auth: me.cookie, want: 409}
	case 4:
		return bleedRequest{kind: "credential under another user's account (404)", method: "POST", path: "/api/credentials/store",
			body: fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AKSTOLEN","secret_key":"x"}`, victim.accountID),
			auth: me.cookie, want: 404}
	case 5:
		return bleedRequest{kind: "update another user's credential (404)", method: "PUT", path: "/api/credentials/" + victim.credentialID,
			body: `{"nickname":"stolen"}`, auth: me.cookie, want: 404}
	case 6:
		return bleedRequest{kind: "no session (401)", method: "GET", path: "/api/accounts", want: 401}
	case 7:
		// Well signed, but no such session: the lookup reaches the database.
		var b [16]byte
		_, _ = crand.Read(b[:])
		return bleedRequest{kind: "unknown session (401)", method: "GET", path: "/api/credentials",
			auth: "better-auth.session_token=" + servicetest.SignedValue(hex.EncodeToString(b[:])), want: 401}
	case 8:
		// The contract (docs/api.md) answers 200 with nothing, not 404.
		return bleedRequest{kind: "credentials of another user's account (empty)", method: "GET",
			path: "/api/credentials?account_id=" + victim.accountID, auth: me.cookie, want: 200,
			check: func(b map[string]any) error {
				if list, _ := b["credentials"].([]any); len(list) != 0 || b["count"] != float64(0) {
					return fmt.Errorf("want no credentials, got %d (count %v)", len(list), b["count"])
				}
				return nil
			}}
	case 9:
		return bleedRequest{kind: "invalid credential (422)", method: "POST", path: "/api/credentials/store",
			body: fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","environment":"moon","api_key":"AK","secret_key":"x"}`, me.accountID),
			auth: me.cookie, want: 422}
	default:
		return bleedRequest{kind: "garbage cookie (401)", method: "POST", path: "/api/accounts/get-or-create",
			auth: "better-auth.session_token=garbage", want: 401}
	}
}

func ownAccountList(b map[string]any, me tenant) error {
	list, _ := b["accounts"].([]any)
	if len(list) != 1 || b["count"] != float64(1) {
		return fmt.Errorf("want exactly the requester's account, got %d (count %v)", len(list), b["count"])
	}
	acc, _ := list[0].(map[string]any)
	return ownAccount(acc, me)
}

func ownAccount(acc map[string]any, me tenant) error {
	if acc["id"] != me.accountID || acc["user_id"] != me.UserID {
		return fmt.Errorf("account %v of user %v, want %s of %s", acc["id"], acc["user_id"], me.accountID, me.UserID)
	}
	return nil
}

func ownCredentialList(b map[string]any, me tenant) error {
	list, _ := b["credentials"].([]any)
	if len(list) != 1 || b["count"] != float64(1) {
		return fmt.Errorf("want exactly the requester's credential, got %d (count %v)", len(list), b["count"])
	}
	c, _ := list[0].(map[string]any)
	if c["id"] != me.credentialID || c["account_id"] != me.accountID {
		return fmt.Errorf("credential %v of account %v, want %s of %s", c["id"], c["account_id"], me.credentialID, me.accountID)
	}
	return nil
}

// interleaveRequests sends total requests from workers goroutines, each a random pick of
// nextBleedRequest, and fails the test on any answer that is not the expected status or
// that names another user's id. It returns how many requests of each kind were sent.
func interleaveRequests(t *testing.T, baseURL string, tenants []tenant, total, workers int) map[string]int {
	t.Helper()
	return interleave(t, baseURL, tenants, total, workers, false)
}

// serverErrorKind counts, when interleave tolerates them, the 500 and 503 problem answers
// of a service whose database fails under it. Their bodies are checked like any other.
const serverErrorKind = "5xx"

var errServerError = errors.New("5xx")

// interleave is interleaveRequests; with tolerateServerErrors, 500 and 503 problem answers
// are counted under serverErrorKind instead of failing the test.
func interleave(t *testing.T, baseURL string, tenants []tenant, total, workers int, tolerateServerErrors bool) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bleedDeadline)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("interleaving %d requests from %d workers, seed %d", total, workers, seed)

	httpClient := &http.Client{Timeout: 15 * time.Second}
	var (
		next     atomic.Int64
		mu       sync.Mutex
		counts   = map[string]int{}
		failures []string
		wg       sync.WaitGroup
	)
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, msg)
		if len(failures) >= 20 {
			cancel() // enough to see the pattern
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(total) {
					return
				}
				req := nextBleedRequest(rng, tenants)
				err := sendBleedRequest(ctx, httpClient, baseURL, req, tenants, tolerateServerErrors)
				mu.Lock()
				counts[req.kind]++
				if errors.Is(err, errServerError) {
					counts[serverErrorKind]++
					err = nil
				}
				mu.Unlock()
				if err != nil && ctx.Err() == nil {
					fail(fmt.Sprintf("request %d (%s %s, %s): %v", i, req.method, req.path, req.kind, err))
				}
			}
		}()
	}
	wg.Wait()
	require.Empty(t, failures, "every response belongs to its requester")
	require.NoError(t, ctx.Err(), "the run finished within %s", bleedDeadline)
	sent := -counts[serverErrorKind]
	for _, n := range counts {
		sent += n
	}
	require.Equal(t, total, sent)
	return counts
}

func sendBleedRequest(ctx context.Context, c *http.Client, baseURL string, r bleedRequest, tenants []tenant, tolerateServerErrors bool) error {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, baseURL+r.path, body)
	if err != nil {
		return err
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.auth != "" {
		req.Header.Set("Cookie", r.auth)
	}
	if r.method != "GET" {
		req.Header.Set("Origin", bleedOrigin)
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	// Whatever the status, no body names a user, account or credential other than the
	// requester's, unless the request itself named it.
	if err := namesNoOtherTenant(r, raw, tenants); err != nil {
		return err
	}
	if tolerateServerErrors && (res.StatusCode == http.StatusInternalServerError && strings.Contains(string(raw), `"code":"internal"`) ||
		res.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(raw), `"code":"unavailable"`)) {
		return errServerError
	}
	if res.StatusCode != r.want {
		return fmt.Errorf("status %d, want %d: %s", res.StatusCode, r.want, raw)
	}
	if r.check == nil {
		return nil
	}
	var decoded map[string]any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return fmt.Errorf("body is not JSON: %v: %s", err, raw)
	}
	if err := r.check(decoded); err != nil {
		return errors.Join(err, fmt.Errorf("body: %s", raw))
	}
	return nil
}

func namesNoOtherTenant(r bleedRequest, raw []byte, tenants []tenant) error {
	for _, other := range tenants {
		if r.auth == other.cookie {
			continue
		}
		for _, id := range []string{other.UserID, other.accountID, other.credentialID} {
			if strings.Contains(string(raw), id) && !strings.Contains(r.path+r.body, id) {
				return fmt.Errorf("the response names %s of another user: %s", id, raw)
			}
		}
	}
	return nil
}

// watchBackends samples, every 20ms until the returned stop is called, how many client
// sessions other than its own are open on dbURL's database; stop returns the largest count.
func watchBackends(t *testing.T, dbURL string) (stop func() int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bleedDeadline+time.Minute)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	var (
		maxSeen int
		done    = make(chan struct{})
		err2    error
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&n); err != nil {
				if ctx.Err() == nil {
					err2 = err
				}
				return
			}
			maxSeen = max(maxSeen, n)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() int {
		cancel()
		<-done
		_ = conn.Close(context.Background())
		require.NoError(t, err2, "watching pg_stat_activity")
		return maxSeen
	}
}
