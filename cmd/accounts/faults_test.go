//go:build faults

package main

// Tests 33–39 of docs/reliability.md: the real binary against a private
// PostgreSQL cluster (pgtest.StartCluster) that the tests stop, restart, pause and lock,
// never the shared server on 5432. They need the PostgreSQL server binaries, hence the
// faults build tag: `go tool task test:faults`.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/internal/servicetest"
)

const (
	// requestDeadline is REQUEST_TIMEOUT's default; deadlineSlack covers writing the
	// response and a busy two-core machine.
	requestDeadline = 5 * time.Second
	deadlineSlack   = time.Second
	// serviceRole is the service's login role on the private cluster: not a superuser, a
	// member of accounts_app (so it may switch to it and run the session lookup).
	serviceRole = "app"
	appOrigin   = "http://app.test"
)

// faultEnv is a private cluster whose "accounts" database the binary has migrated, with
// the login role the service connects as.
type faultEnv struct {
	cluster *pgtest.Cluster
	suURL   string // superuser, for fixtures and checks only
	appURL  string // what the service connects with
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	c := pgtest.StartCluster(t)
	su := c.URL("accounts")
	faultMigrate(t, su)
	servicetest.Exec(t, su, `CREATE ROLE `+serviceRole+` LOGIN;
		GRANT accounts_app TO `+serviceRole+`;
		GRANT SELECT ON schema_migrations, "session", "user" TO `+serviceRole)
	return &faultEnv{cluster: c, suURL: su, appURL: strings.Replace(su, "postgres@", serviceRole+"@", 1)}
}

// faultMigrate is `accounts migrate`, once, as the superuser.
func faultMigrate(t *testing.T, dbURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, servicetest.Binary(t), "migrate")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "BETTER_AUTH_SECRET=" + servicetest.Secret, "CREDENTIAL_KEYS=" + servicetest.Keys}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "accounts migrate:\n%s", out)
}

// serve runs plain `accounts serve` (no --migrate: the database is migrated already, and
// the service must start even while it is down).
func (e *faultEnv) serve(t *testing.T, extraEnv ...string) *servicetest.Service {
	t.Helper()
	return servicetest.Launch(t, []string{"serve"}, e.appURL, extraEnv...)
}

// faultResult is one request's outcome; err is a transport error (no HTTP response at all).
type faultResult struct {
	label      string
	start      time.Time
	took       time.Duration
	status     int
	retryAfter string
	body       string
	err        error
}

func (r faultResult) String() string {
	if r.err != nil {
		return fmt.Sprintf("%s at %s: %v after %s", r.label, r.start.Format("15:04:05.000"), r.err, r.took)
	}
	return fmt.Sprintf("%s at %s: %d after %s %s", r.label, r.start.Format("15:04:05.000"), r.status, r.took.Round(time.Millisecond), r.body)
}

func (r faultResult) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// faultClient's timeout is far past the deadline: a hang shows up as a slow result, not as
// a client-side cut that would hide it.
var faultClient = &http.Client{Timeout: 30 * time.Second}

// faultFreshClient opens a new connection for every request, to see what a new client sees.
var faultFreshClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// faultDo sends one request without failing the test, so it may run in any goroutine.
func faultDo(c *http.Client, baseURL, method, path, body string, headers ...string) faultResult {
	r := faultResult{label: method + " " + path, start: time.Now()}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		r.err = err
		return r
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		r.took, r.err = time.Since(r.start), err
		return r
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	r.took, r.status, r.retryAfter, r.body, r.err = time.Since(r.start), res.StatusCode, res.Header.Get("Retry-After"), string(raw), err
	return r
}

// requireFaultUnavailable: 503 or 504 with Retry-After, within the deadline — never a 500 and
// never a hang.
func requireFaultUnavailable(t *testing.T, r faultResult) {
	t.Helper()
	require.NoError(t, r.err, "%s", r)
	require.Contains(t, []int{503, 504}, r.status, "%s", r)
	require.NotEmpty(t, r.retryAfter, "Retry-After: %s", r)
	require.LessOrEqual(t, r.took, requestDeadline+deadlineSlack, "%s", r)
}

// faultUser is one Better Auth user with a live session on the private cluster.
type faultUser struct {
	id      string
	headers []string // Cookie and an allowed Origin
}

func newFaultUser(t *testing.T, e *faultEnv, id string) faultUser {
	t.Helper()
	return faultUser{id: id, headers: []string{"Cookie", cookieFor(t, e.suURL, id), "Origin", appOrigin}}
}

// faultStoreCredential creates the user's account if needed and stores one credential in it.
func faultStoreCredential(t *testing.T, svc *servicetest.Service, u faultUser, nickname string) string {
	t.Helper()
	res := request(t, svc, "POST", "/api/accounts/get-or-create", "", u.headers...)
	require.Contains(t, []int{200, 201}, res.status, res.raw)
	accountID := res.body["account"].(map[string]any)["id"].(string)
	res = request(t, svc, "POST", "/api/credentials/store", fmt.Sprintf(
		`{"account_id":%q,"credential_type":"alpaca","api_key":"AKFAULT0123456789","secret_key":"SKfault0123456789abcdef","nickname":%q}`,
		accountID, nickname), u.headers...)
	require.Equal(t, 201, res.status, res.raw)
	return res.body["id"].(string)
}

// faultLockCredentials holds FOR UPDATE locks on the rows from a superuser transaction until
// release is called (or the test ends).
func faultLockCredentials(t *testing.T, suURL string, ids ...string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, suURL)
	require.NoError(t, err)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	tag, err := tx.Exec(ctx, `SELECT 1 FROM user_credentials WHERE id = ANY($1::uuid[]) FOR UPDATE`, ids)
	require.NoError(t, err)
	require.EqualValues(t, len(ids), tag.RowsAffected())
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback(ctx)
			_ = conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return release
}

// faultCountBackends counts the service role's sessions matching cond (SQL over pg_stat_activity).
func faultCountBackends(t *testing.T, suURL, cond string) int {
	t.Helper()
	var n int
	servicetest.QueryRow(t, suURL, `SELECT count(*) FROM pg_stat_activity WHERE usename = '`+serviceRole+`' AND `+cond, &n)
	return n
}

// faultWait polls cond every 50 ms until it holds or within passes; it returns how long
// it took.
func faultWait(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// faultLoad sends requests open-loop at a fixed rate (each in its own goroutine, so a stalled
// request does not slow the rate) until stop or max requests, and keeps every faultResult.
type faultLoad struct {
	stop    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []faultResult
}

func startFaultLoad(interval time.Duration, max int, next func(i int) func() faultResult) *faultLoad {
	l := &faultLoad{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < max; i++ {
			send := next(i)
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				r := send()
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
			}()
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return l
}

// finish stops sending and waits for every request in flight (each is bounded by
// faultClient's timeout).
func (l *faultLoad) finish() []faultResult {
	close(l.stop)
	<-l.done
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]faultResult(nil), l.results...)
}

// faultProcStatus reads the service process's thread count and resident memory from
// /proc/<pid>/status: the outside view of "goroutines and memory stay bounded" that needs
// no debug endpoint in the binary.
func faultProcStatus(t *testing.T, pid int) (threads int, rssKiB int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Threads":
			threads, _ = strconv.Atoi(f[0])
		case "VmRSS":
			rssKiB, _ = strconv.Atoi(f[0])
		}
	}
	return threads, rssKiB
}

// TestRel33_DatabaseDownAtBoot: without --migrate the service starts while PostgreSQL is
// down: live, not ready, API 503 + Retry-After; once PostgreSQL starts, everything is 2xx
// within 10 s without a restart of the service.
func TestRel33_DatabaseDownAtBoot(t *testing.T) {
	e := newFaultEnv(t)
	alice := newFaultUser(t, e, "alice-33")
	e.cluster.Stop(t, "fast")

	svc := e.serve(t)
	for _, path := range []string{"/livez", "/healthz"} {
		r := faultDo(faultClient, svc.URL, "GET", path, "")
		require.True(t, r.ok(), "%s", r)
	}
	r := faultDo(faultClient, svc.URL, "GET", "/readyz", "")
	requireFaultUnavailable(t, r)
	require.Equal(t, 503, r.status, "%s", r)
	for _, r := range []faultResult{
		faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", alice.headers...),
		faultDo(faultClient, svc.URL, "POST", "/api/accounts/get-or-create", "", alice.headers...),
	} {
		requireFaultUnavailable(t, r)
		require.Equal(t, 503, r.status, "a refused connection is unavailable: %s", r)
		require.Less(t, r.took, time.Second, "connection refused answers at once: %s", r)
		require.Contains(t, r.body, `"code":"unavailable"`)
	}

	e.cluster.Start(t)
	took := faultWait(t, 10*time.Second, "2xx after PostgreSQL started", func() bool {
		return faultDo(faultClient, svc.URL, "GET", "/readyz", "").ok() &&
			faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", alice.headers...).ok() &&
			faultDo(faultClient, svc.URL, "POST", "/api/accounts/get-or-create", "", alice.headers...).ok()
	})
	t.Logf("recovered %s after PostgreSQL accepted connections", took.Round(time.Millisecond))
	for range 5 {
		r := faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", alice.headers...)
		require.True(t, r.ok(), "%s", r)
	}
	require.Equal(t, 0, svc.Stop(t))
}

// TestRel34_DatabaseRestartUnderLoad: 20 rps of list and get-or-create for five users
// while PostgreSQL restarts (pg_ctl restart -m fast) and the service's sessions are then
// terminated: only 2xx, 503 + Retry-After or 504, no 500, nothing past the deadline; from
// 5 s after PostgreSQL is back and the sessions are gone ≥ 99 % succeed; one account per
// user.
func TestRel34_DatabaseRestartUnderLoad(t *testing.T) {
	e := newFaultEnv(t)
	var users []faultUser
	for i := range 5 {
		users = append(users, newFaultUser(t, e, fmt.Sprintf("user-34-%d", i)))
	}
	svc := e.serve(t)

	l := startFaultLoad(50*time.Millisecond, 400, func(i int) func() faultResult {
		u := users[i%len(users)]
		if i%2 == 0 {
			return func() faultResult { return faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", u.headers...) }
		}
		return func() faultResult {
			return faultDo(faultClient, svc.URL, "POST", "/api/accounts/get-or-create", "", u.headers...)
		}
	})
	time.Sleep(2 * time.Second) // steady state first
	restartAt := time.Now()
	e.cluster.Restart(t) // returns once PostgreSQL accepts connections
	upAt := time.Now()
	// Then the operator's pg_terminate_backend, once the service has reconnected (so it
	// has sessions to lose).
	faultWait(t, 3*time.Second, "the service reconnected", func() bool {
		return faultCountBackends(t, e.suURL, "true") > 0
	})
	terminated := e.cluster.TerminateBackends(t, serviceRole)
	recoveredFrom := time.Now() // the last fault: the 5 s window starts here
	require.Positive(t, terminated)
	time.Sleep(9 * time.Second)
	results := l.finish()
	t.Logf("restart took %s; terminated %d of the service's sessions %s after; %d requests",
		upAt.Sub(restartAt).Round(time.Millisecond), terminated, recoveredFrom.Sub(upAt).Round(time.Millisecond), len(results))

	var before, during, after, afterOK, unavailable int
	var slowest time.Duration
	for _, r := range results {
		slowest = max(slowest, r.took)
		require.NoError(t, r.err, "%s", r)
		require.NotEqual(t, 500, r.status, "%s", r)
		require.LessOrEqual(t, r.took, requestDeadline+deadlineSlack, "%s", r)
		if !r.ok() {
			requireFaultUnavailable(t, r)
			unavailable++
		}
		switch {
		case r.start.Add(r.took).Before(restartAt):
			before++
			require.True(t, r.ok(), "before the restart: %s", r)
		case r.start.After(recoveredFrom.Add(5 * time.Second)):
			after++
			if r.ok() {
				afterOK++
			}
		default:
			during++
		}
	}
	t.Logf("%d before, %d during, %d from 5 s after (%d ok); %d answered 503/504; slowest %s",
		before, during, after, afterOK, unavailable, slowest.Round(time.Millisecond))
	require.GreaterOrEqual(t, before, 20)
	require.GreaterOrEqual(t, after, 40)
	require.GreaterOrEqual(t, float64(afterOK), 0.99*float64(after), "≥99%% succeed from 5 s after the last fault")

	var users1, rows int
	servicetest.QueryRow(t, e.suURL, `SELECT count(DISTINCT user_id), count(*) FROM user_accounts`, &users1, &rows)
	require.Equal(t, len(users), users1, "every user has an account")
	require.Equal(t, len(users), rows, "exactly one account per user")
	require.Equal(t, 0, svc.Stop(t))
}

// TestRel35_BlackHole: PostgreSQL frozen with SIGSTOP (postmaster and every backend), so
// connections neither fail nor answer. Requests end as 503/504 within the deadline,
// /readyz turns 503 within one probe (~1 s), the process's threads and memory stay flat
// (the external bound on goroutines: /proc/<pid>/status, no debug endpoint), and after
// SIGCONT everything recovers within 10 s.
func TestRel35_BlackHole(t *testing.T) {
	e := newFaultEnv(t)
	alice := newFaultUser(t, e, "alice-35")
	bob := newFaultUser(t, e, "bob-35")
	svc := e.serve(t)
	pid := svc.Cmd.Process.Pid
	for _, u := range []faultUser{alice, bob} {
		for range 5 { // a warm pool: the idle connections are the ones that will hang
			require.True(t, faultDo(faultClient, svc.URL, "POST", "/api/accounts/get-or-create", "", u.headers...).ok())
			require.True(t, faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", u.headers...).ok())
		}
	}
	threads0, rss0 := faultProcStatus(t, pid)

	e.cluster.Pause(t)
	pausedAt := time.Now()
	var readyz faultResult
	took := faultWait(t, 2500*time.Millisecond, "/readyz 503 while paused", func() bool {
		readyz = faultDo(faultClient, svc.URL, "GET", "/readyz", "")
		return readyz.status == 503
	})
	t.Logf("/readyz 503 %s after the pause (probe took %s)", took.Round(time.Millisecond), readyz.took.Round(time.Millisecond))
	require.LessOrEqual(t, readyz.took, 1500*time.Millisecond, "one probe is bounded by its 1 s timeout")

	l := startFaultLoad(100*time.Millisecond, 80, func(i int) func() faultResult {
		u := []faultUser{alice, bob}[i%2]
		if i%3 == 0 {
			return func() faultResult {
				return faultDo(faultClient, svc.URL, "POST", "/api/accounts/get-or-create", "", u.headers...)
			}
		}
		return func() faultResult { return faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", u.headers...) }
	})
	maxThreads, maxRSS := threads0, rss0
	for time.Since(pausedAt) < 8*time.Second {
		th, rss := faultProcStatus(t, pid)
		maxThreads, maxRSS = max(maxThreads, th), max(maxRSS, rss)
		time.Sleep(200 * time.Millisecond)
	}
	results := l.finish()
	statuses := map[int]int{}
	var slowest time.Duration
	for _, r := range results {
		requireFaultUnavailable(t, r)
		statuses[r.status]++
		slowest = max(slowest, r.took)
	}
	t.Logf("%d requests while paused: %v, slowest %s; threads %d → max %d, RSS %d → max %d KiB",
		len(results), statuses, slowest.Round(time.Millisecond), threads0, maxThreads, rss0, maxRSS)
	require.LessOrEqual(t, maxThreads, threads0+16, "threads stay bounded while the database hangs")
	require.LessOrEqual(t, maxRSS, rss0+64<<10, "memory stays bounded while the database hangs")

	e.cluster.Resume(t)
	took = faultWait(t, 10*time.Second, "recovery after resume", func() bool {
		return faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", alice.headers...).ok() &&
			faultDo(faultClient, svc.URL, "POST", "/api/accounts/get-or-create", "", bob.headers...).ok() &&
			faultDo(faultClient, svc.URL, "GET", "/readyz", "").ok()
	})
	t.Logf("recovered %s after the resume", took.Round(time.Millisecond))
	require.Equal(t, 0, svc.Stop(t))
}

// TestRel36_LockTimeout: a superuser holds A's credential row FOR UPDATE; PUT on it fails
// with 503/504 after lock_timeout (3 s) instead of hanging, and works once the lock is gone.
func TestRel36_LockTimeout(t *testing.T) {
	e := newFaultEnv(t)
	alice := newFaultUser(t, e, "alice-36")
	svc := e.serve(t)
	id := faultStoreCredential(t, svc, alice, "locked")

	release := faultLockCredentials(t, e.suURL, id)
	r := faultDo(faultClient, svc.URL, "PUT", "/api/credentials/"+id, `{"nickname":"blocked"}`, alice.headers...)
	requireFaultUnavailable(t, r)
	require.Equal(t, 504, r.status, "lock_timeout is a timeout: %s", r)
	require.GreaterOrEqual(t, r.took, 2900*time.Millisecond, "it waited for lock_timeout: %s", r)
	require.Less(t, r.took, requestDeadline, "lock_timeout ends it before the request deadline: %s", r)
	release()

	var nickname string
	servicetest.QueryRow(t, e.suURL, `SELECT nickname FROM user_credentials WHERE id = '`+id+`'`, &nickname)
	require.Equal(t, "locked", nickname, "the timed-out update was rolled back")
	res := request(t, svc, "PUT", "/api/credentials/"+id, `{"nickname":"unlocked"}`, alice.headers...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, "unlocked", res.body["nickname"])
	require.Equal(t, 0, svc.Stop(t))
}

// TestRel37_PoolExhaustion: with DB_MAX_CONNS=2, two PUTs blocked on row locks hold both
// connections; a third request gets 504 at the acquire timeout (here 1 s), well before the
// request deadline and before lock_timeout frees the others. Liveness is unaffected, and
// the pool serves again once the locks are gone.
func TestRel37_PoolExhaustion(t *testing.T) {
	e := newFaultEnv(t)
	alice := newFaultUser(t, e, "alice-37")
	const acquireTimeout = time.Second
	svc := e.serve(t, "DB_MAX_CONNS=2", "DB_ACQUIRE_TIMEOUT="+acquireTimeout.String())
	ids := []string{faultStoreCredential(t, svc, alice, "one"), faultStoreCredential(t, svc, alice, "two")}

	release := faultLockCredentials(t, e.suURL, ids...)
	puts := make(chan faultResult, len(ids))
	for _, id := range ids {
		go func() {
			puts <- faultDo(faultClient, svc.URL, "PUT", "/api/credentials/"+id, `{"nickname":"blocked"}`, alice.headers...)
		}()
	}
	faultWait(t, 2*time.Second, "both PUTs waiting on the row locks", func() bool {
		return faultCountBackends(t, e.suURL, "wait_event_type = 'Lock'") == 2
	})

	third := faultDo(faultClient, svc.URL, "GET", "/api/accounts", "", alice.headers...)
	requireFaultUnavailable(t, third)
	require.Equal(t, 504, third.status, "an acquire timeout is a 504 (as PostgREST's): %s", third)
	require.GreaterOrEqual(t, third.took, acquireTimeout-50*time.Millisecond, "%s", third)
	require.Less(t, third.took, acquireTimeout+time.Second, "answered at the acquire timeout: %s", third)
	live := faultDo(faultClient, svc.URL, "GET", "/livez", "")
	require.True(t, live.ok(), "%s", live)
	require.Less(t, live.took, 500*time.Millisecond, "liveness needs no connection: %s", live)

	for range ids {
		requireFaultUnavailable(t, <-puts) // lock_timeout
	}
	release()
	res := request(t, svc, "GET", "/api/accounts", "", alice.headers...)
	require.Equal(t, 200, res.status, res.raw)
	res = request(t, svc, "PUT", "/api/credentials/"+ids[0], `{"nickname":"free"}`, alice.headers...)
	require.Equal(t, 200, res.status, res.raw)
	require.Equal(t, 0, svc.Stop(t))
}

// TestRel38_GracefulShutdown: a PUT is blocked on a row lock when SIGTERM arrives; the
// lock is released 1 s later. /readyz is 503 at once, new connections are refused after
// the drain period, the PUT still returns 200 and is committed once, and the process
// exits 0 within SHUTDOWN_TIMEOUT.
func TestRel38_GracefulShutdown(t *testing.T) {
	e := newFaultEnv(t)
	alice := newFaultUser(t, e, "alice-38")
	const drain, shutdownTimeout = 500 * time.Millisecond, 10 * time.Second
	svc := e.serve(t, "SHUTDOWN_DRAIN_PERIOD="+drain.String(), "SHUTDOWN_TIMEOUT="+shutdownTimeout.String())
	id := faultStoreCredential(t, svc, alice, "before")
	require.True(t, faultDo(faultFreshClient, svc.URL, "GET", "/readyz", "").ok())

	release := faultLockCredentials(t, e.suURL, id)
	put := make(chan faultResult, 1)
	go func() {
		put <- faultDo(faultClient, svc.URL, "PUT", "/api/credentials/"+id, `{"nickname":"after-sigterm"}`, alice.headers...)
	}()
	faultWait(t, 2*time.Second, "the PUT waiting on the row lock", func() bool {
		return faultCountBackends(t, e.suURL, "wait_event_type = 'Lock'") == 1
	})

	require.NoError(t, svc.Cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()
	releaseAt := time.AfterFunc(time.Second, release)
	defer releaseAt.Stop()

	// During the drain period the listener still accepts, and says not ready.
	var readyz faultResult
	took := faultWait(t, drain/2, "/readyz 503 after SIGTERM", func() bool {
		readyz = faultDo(faultFreshClient, svc.URL, "GET", "/readyz", "")
		return readyz.status == 503
	})
	require.Contains(t, readyz.body, `"code":"unavailable"`)
	t.Logf("/readyz 503 %s after SIGTERM", took.Round(time.Millisecond))
	time.Sleep(time.Until(signalled.Add(drain / 2)))
	readyz = faultDo(faultFreshClient, svc.URL, "GET", "/readyz", "")
	require.NoError(t, readyz.err, "still accepting halfway through the drain period")
	require.Equal(t, 503, readyz.status, "%s", readyz)

	// Then the listener closes: new connections are refused while the PUT is still in flight.
	addr := strings.TrimPrefix(svc.URL, "http://")
	faultWait(t, drain+time.Second, "new connections refused", func() bool {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return false
		}
		require.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
		return true
	})
	select {
	case r := <-put:
		t.Fatalf("the PUT ended before the lock was released: %s", r)
	default:
	}

	r := <-put
	require.True(t, r.ok(), "the in-flight PUT completes: %s", r)
	require.Contains(t, r.body, `"nickname":"after-sigterm"`)
	require.GreaterOrEqual(t, time.Since(signalled), time.Second, "it waited for the lock")

	select {
	case <-svc.Done:
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("the service did not exit after the in-flight request finished")
	}
	exited := time.Since(signalled)
	require.Equal(t, 0, svc.Cmd.ProcessState.ExitCode(), "a graceful shutdown exits 0")
	require.Less(t, exited, shutdownTimeout, "exit within SHUTDOWN_TIMEOUT")
	t.Logf("exited 0 %s after SIGTERM", exited.Round(time.Millisecond))

	var nickname string
	var count int
	servicetest.QueryRow(t, e.suURL, `SELECT nickname, (SELECT count(*) FROM user_credentials) FROM user_credentials WHERE id = '`+id+`'`, &nickname, &count)
	require.Equal(t, "after-sigterm", nickname, "the PUT committed")
	require.Equal(t, 1, count, "and created nothing else")
	faultWait(t, 2*time.Second, "the pool closed its connections", func() bool {
		return faultCountBackends(t, e.suURL, "true") == 0
	})
}

// TestRel39_SigkillMidTransaction: the service dies (or stalls) while its transaction holds
// a row lock. The lock does not outlive it: on SIGKILL the socket closes and the backend
// ends at once; a stalled (SIGSTOPped, socket open) client is cut by
// idle_in_transaction_session_timeout (10 s). A fresh service's PUT then succeeds, and the
// abandoned update was never committed.
//
// To get the service idle in a transaction that holds the lock: its PUT first waits on a
// superuser's lock; the service is frozen (SIGSTOP); the superuser lets go, so the
// service's backend takes the lock, runs the UPDATE and waits, idle in transaction, for a
// client that cannot answer.
func TestRel39_SigkillMidTransaction(t *testing.T) {
	e := newFaultEnv(t)
	alice := newFaultUser(t, e, "alice-39")
	svc := e.serve(t)
	id := faultStoreCredential(t, svc, alice, "original")
	require.Equal(t, 0, svc.Stop(t))

	// holdLockAndFreeze leaves svc frozen, its backend idle in transaction with the lock.
	holdLockAndFreeze := func(t *testing.T, svc *servicetest.Service, nickname string) {
		t.Helper()
		release := faultLockCredentials(t, e.suURL, id)
		go func() { // its answer never comes: the service is frozen, then killed
			_ = faultDo(faultClient, svc.URL, "PUT", "/api/credentials/"+id, fmt.Sprintf(`{"nickname":%q}`, nickname), alice.headers...)
		}()
		faultWait(t, 2*time.Second, "the PUT waiting on the row lock", func() bool {
			return faultCountBackends(t, e.suURL, "wait_event_type = 'Lock'") == 1
		})
		require.NoError(t, svc.Cmd.Process.Signal(syscall.SIGSTOP))
		release()
		faultWait(t, 2*time.Second, "the service's backend idle in transaction", func() bool {
			return faultCountBackends(t, e.suURL, "state = 'idle in transaction'") == 1
		})
	}
	lockFree := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, e.suURL)
		require.NoError(t, err)
		defer conn.Close(ctx)
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, `SELECT 1 FROM user_credentials WHERE id = $1 FOR UPDATE NOWAIT`, id)
		return err == nil
	}
	putSucceeds := func(t *testing.T, nickname string) {
		t.Helper()
		svc := e.serve(t)
		res := request(t, svc, "PUT", "/api/credentials/"+id, fmt.Sprintf(`{"nickname":%q}`, nickname), alice.headers...)
		require.Equal(t, 200, res.status, res.raw)
		require.Equal(t, nickname, res.body["nickname"])
		require.Equal(t, 0, svc.Stop(t))
	}
	requireNickname := func(t *testing.T, want string) {
		t.Helper()
		var nickname string
		servicetest.QueryRow(t, e.suURL, `SELECT nickname FROM user_credentials WHERE id = '`+id+`'`, &nickname)
		require.Equal(t, want, nickname)
	}

	t.Run("SIGKILL closes the socket and frees the lock at once", func(t *testing.T) {
		svc := e.serve(t)
		holdLockAndFreeze(t, svc, "killed")
		require.False(t, lockFree(), "the frozen service's transaction holds the lock")
		require.NoError(t, svc.Cmd.Process.Signal(syscall.SIGKILL))
		<-svc.Done
		took := faultWait(t, 3*time.Second, "the lock freed after SIGKILL", lockFree)
		t.Logf("lock freed %s after SIGKILL", took.Round(time.Millisecond))
		requireNickname(t, "original")
		putSucceeds(t, "after-kill")
	})

	t.Run("a stalled client is cut by idle_in_transaction_session_timeout", func(t *testing.T) {
		svc := e.serve(t)
		holdLockAndFreeze(t, svc, "stalled")
		idleSince := time.Now()
		require.False(t, lockFree())
		took := faultWait(t, 15*time.Second, "the lock freed by the idle timeout", lockFree)
		t.Logf("lock freed %s after the backend went idle in transaction", took.Round(time.Millisecond))
		require.GreaterOrEqual(t, time.Since(idleSince), 9*time.Second, "by the 10 s idle timeout, not by anything else")
		require.NoError(t, svc.Cmd.Process.Signal(syscall.SIGKILL))
		<-svc.Done
		requireNickname(t, "after-kill")
		putSucceeds(t, "after-stall")
	})
}
