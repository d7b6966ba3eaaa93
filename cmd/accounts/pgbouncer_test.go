//go:build faults

package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// The service behind PgBouncer in transaction pooling mode (reliability design
// rule 2): a server connection serves one transaction of one client, then the next
// transaction of any other client, and PgBouncer runs no reset query between them. Only
// state that ends with the transaction is safe; everything the service sets per user
// (role, app.current_user_id, timeouts) is set with set_config(..., true).
//
// Needs the pgbouncer binary (Debian's package; scripts/install-test-deps.sh installs it,
// and this test runs that script when pgbouncer is missing).

const (
	// bouncerPoolSize is small so that every server connection is shared by all users.
	bouncerPoolSize = 2
	// bouncerExecMode is the pgx mode that works through PgBouncer 1.18 in transaction
	// mode: the extended protocol with the unnamed statement, parse, bind and execute in
	// one round trip. The default (cache_statement) prepares named statements on one
	// server connection and executes them on whichever the next transaction gets.
	bouncerExecMode = "exec"
)

func TestPgBouncerTransactionPooling(t *testing.T) {
	pgbouncer := pgbouncerBinary(t)
	directURL := servicetest.NewDatabaseURL(t)
	dbName := strings.TrimPrefix(mustParseURL(t, directURL).Path, "/")

	// Migrations never go through PgBouncer: the migration lock is a session-level advisory
	// lock, which transaction pooling would leave behind on a server connection. So the
	// service runs `serve`, without --migrate.
	migrateDirect(t, directURL)

	bouncer := startPgBouncer(t, pgbouncer, directURL, bouncerPoolSize)
	serviceURL := bouncer.databaseURL(dbName, "default_query_exec_mode="+bouncerExecMode)
	svc := servicetest.StartArgs(t, []string{"serve"}, serviceURL, "DB_MAX_CONNS=8")
	require.Equal(t, 200, request(t, svc, "GET", "/readyz", "").status, "ready through PgBouncer")

	tenants := seedTenants(t, svc, directURL, bleedTenants)
	counts := interleaveRequests(t, svc.URL, tenants, bleedRequests, bleedWorkers)
	t.Logf("requests by kind: %v", counts)
	requireTenantRowsUnchanged(t, directURL, tenants)

	servers := bouncer.servers(t, dbName)
	clients := bouncer.clients(t, dbName)
	t.Logf("PgBouncer: %d service connections shared %d server connections (pids %v)", clients, len(servers), servers)
	require.NotEmpty(t, servers)
	require.LessOrEqual(t, len(servers), bouncerPoolSize)
	require.Greater(t, clients, len(servers), "the service's connections shared the server connections")

	// After the run, every server connection is clean: probe each of them through
	// PgBouncer as the service's login role.
	baseline := sessionDefaults(t, directURL)
	probed := probeServerConnections(t, bouncer.databaseURL(dbName, "default_query_exec_mode="+bouncerExecMode), baseline)
	for _, pid := range servers {
		require.Contains(t, probed, pid, "server connection %d was probed", pid)
	}

	var advisory, inTx int
	servicetest.QueryRow(t, directURL, `SELECT
		(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
		(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%')`, &advisory, &inTx)
	require.Zero(t, advisory, "no session-level advisory lock is held by a pooled server connection")
	require.Zero(t, inTx, "no server connection was left in a transaction")

	// Through the pooler too, a sign-out takes effect on the very next request.
	cookie := cookieFor(t, directURL, "bouncer-revoke")
	for range 3 {
		require.Equal(t, 200, request(t, svc, "GET", "/api/accounts", "", "Cookie", cookie).status)
	}
	servicetest.Exec(t, directURL, `DELETE FROM "session" WHERE "userId" = 'bouncer-revoke'`)
	require.Equal(t, 401, request(t, svc, "GET", "/api/accounts", "", "Cookie", cookie).status)

	require.Equal(t, 0, svc.Stop(t))
	require.NotContains(t, svc.Logs.String(), `"status":500`)

	// Why the mode matters: pgx's default (cache_statement) prepares named statements
	// (stmtcache_<hash of the SQL>) on whichever server connection it has, and PgBouncer
	// before 1.21 does not track them. The next client on that server connection fails with
	// 42P05 "already exists", a client on another one with 26000 "does not exist". The
	// service must then fail closed: errors (503 for a session lookup, 500 inside a
	// transaction, where nothing classifies these codes), never another user's row. Last,
	// because the statements it prepares stay on the server connections.
	t.Run("pgx default mode fails closed", func(t *testing.T) {
		if major, minor := bouncer.version(t); major > 1 || minor >= 21 {
			t.Skipf("PgBouncer %d.%d may track prepared statements (max_prepared_statements)", major, minor)
		}
		svc := servicetest.Launch(t, []string{"serve"}, bouncer.databaseURL(dbName), "DB_MAX_CONNS=8")
		counts := interleave(t, svc.URL, tenants, 300, bleedWorkers, true)
		t.Logf("requests by kind: %v", counts)
		require.Positive(t, counts[serverErrorKind], "the default mode breaks behind PgBouncer 1.18")
		require.Regexp(t, `SQLSTATE (42P05|26000)`, svc.Logs.String())
		requireTenantRowsUnchanged(t, directURL, tenants)
		require.Equal(t, 0, svc.Stop(t))
	})
}

// sessionState is what a transaction of the service may change, read on one session.
type sessionState struct {
	userContext      sql.NullString // current_setting('app.current_user_id', true)
	currentUser      string
	sessionUser      string
	statementTimeout string
	lockTimeout      string
	idleInTxTimeout  string
	prepared         int // named prepared statements
	pid              int
}

const sessionStateSQL = `SELECT current_setting('app.current_user_id', true), current_user::text, session_user::text,
	current_setting('statement_timeout'), current_setting('lock_timeout'),
	current_setting('idle_in_transaction_session_timeout'), (SELECT count(*) FROM pg_prepared_statements)::int,
	pg_backend_pid()`

func readSessionState(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (sessionState, error) {
	var s sessionState
	err := q.QueryRow(ctx, sessionStateSQL).Scan(&s.userContext, &s.currentUser, &s.sessionUser,
		&s.statementTimeout, &s.lockTimeout, &s.idleInTxTimeout, &s.prepared, &s.pid)
	return s, err
}

// sessionDefaults is a fresh session of the login role, straight to PostgreSQL.
func sessionDefaults(t *testing.T, directURL string) sessionState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, directURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	s, err := readSessionState(ctx, conn)
	require.NoError(t, err)
	require.Empty(t, s.userContext.String)
	return s
}

// probeServerConnections reads the session state on every server connection of the pool
// and fails on anything a transaction left behind. PgBouncer gives each open transaction
// its own server connection, so bouncerPoolSize clients that all hold a transaction at
// once cover the whole pool; autocommit probes in between take whichever is free. It
// returns the backend pids it saw.
func probeServerConnections(t *testing.T, bouncerURL string, want sessionState) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conns := make([]*pgx.Conn, bouncerPoolSize)
	for i := range conns {
		c, err := pgx.Connect(ctx, bouncerURL)
		require.NoError(t, err)
		defer c.Close(context.Background())
		conns[i] = c
	}
	check := func(s sessionState, where string) {
		t.Helper()
		require.Empty(t, s.userContext.String, "%s: no user context on server connection %d", where, s.pid)
		require.Equal(t, want.sessionUser, s.currentUser, "%s: the role switch ended with the transaction (pid %d)", where, s.pid)
		require.Equal(t, want.sessionUser, s.sessionUser, where)
		require.Equal(t, []string{want.statementTimeout, want.lockTimeout, want.idleInTxTimeout},
			[]string{s.statementTimeout, s.lockTimeout, s.idleInTxTimeout}, "%s: timeouts are the server's defaults (pid %d)", where, s.pid)
		require.Zero(t, s.prepared, "%s: no named prepared statement on server connection %d", where, s.pid)
	}

	var seen []int
	const rounds = 20
	for round := range rounds {
		txs := make([]pgx.Tx, len(conns))
		for i, c := range conns {
			tx, err := c.Begin(ctx)
			require.NoError(t, err)
			txs[i] = tx
			s, err := readSessionState(ctx, tx)
			require.NoError(t, err)
			check(s, fmt.Sprintf("round %d, in a transaction", round))
			seen = append(seen, s.pid)
		}
		for _, tx := range txs {
			require.NoError(t, tx.Commit(ctx))
		}
		for _, c := range conns {
			s, err := readSessionState(ctx, c)
			require.NoError(t, err)
			check(s, fmt.Sprintf("round %d, autocommit", round))
			seen = append(seen, s.pid)
		}
	}
	slices.Sort(seen)
	return slices.Compact(seen)
}

// pgbouncerBinary finds pgbouncer, and installs it with the project's script when it is
// missing (the script needs root or sudo and apt).
func pgbouncerBinary(t *testing.T) string {
	t.Helper()
	find := func() string {
		if p, err := exec.LookPath("pgbouncer"); err == nil {
			return p
		}
		if _, err := os.Stat("/usr/sbin/pgbouncer"); err == nil {
			return "/usr/sbin/pgbouncer" // Debian's place, not on every PATH
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "../../scripts/install-test-deps.sh").CombinedOutput()
	p := find()
	require.NotEmpty(t, p, "pgbouncer is missing and scripts/install-test-deps.sh could not install it (%v):\n%s", err, out)
	return p
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// migrateDirect runs `accounts migrate` against PostgreSQL itself.
func migrateDirect(t *testing.T, directURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, servicetest.Binary(t), "migrate")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + directURL, "LOG_LEVEL=warn",
		"BETTER_AUTH_SECRET=" + servicetest.Secret, "CREDENTIAL_KEYS=" + servicetest.Keys}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "accounts migrate:\n%s", out)
}

// bouncer is one running pgbouncer in front of the shared PostgreSQL.
type bouncer struct {
	port int
	logs *servicetest.Logs
}

// databaseURL is dbName through PgBouncer, as the login role of adminURL.
func (b *bouncer) databaseURL(dbName string, params ...string) string {
	u, _ := url.Parse(pgtest.AdminURL())
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	u.Path = "/" + dbName
	q := u.Query()
	q.Set("sslmode", "disable")
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// startPgBouncer writes a configuration for one database in a private directory and runs
// pgbouncer in the foreground on a free port until the test ends. pgbouncer refuses to
// run as root, so under root it runs as the postgres user.
func startPgBouncer(t *testing.T, binary, directURL string, poolSize int) *bouncer {
	t.Helper()
	direct := mustParseURL(t, directURL)
	dbName := strings.TrimPrefix(direct.Path, "/")
	login := direct.User.Username()
	pgHost, pgPort := direct.Hostname(), direct.Port()
	if pgPort == "" {
		pgPort = "5432"
	}

	dir, err := os.MkdirTemp("", "pgbouncer-test-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // readable by the postgres user; nothing secret in it

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "pgbouncer refuses root; it runs as the postgres user")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}

	var lastErr error
	for attempt := range 3 { // the free port may be taken between choosing and binding it
		port := freePort(t)
		ini := filepath.Join(dir, "pgbouncer.ini")
		users := filepath.Join(dir, "userlist.txt")
		require.NoError(t, os.WriteFile(users, fmt.Appendf(nil, "%q \"\"\n", login), 0o644))
		require.NoError(t, os.WriteFile(ini, fmt.Appendf(nil, `[databases]
%s = host=%s port=%s dbname=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = %s
pool_mode = transaction
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_db_connections = %d
max_client_conn = 200
; Transaction pooling never runs the reset query; say so explicitly.
server_reset_query =
server_reset_query_always = 0
ignore_startup_parameters = extra_float_digits
query_wait_timeout = 30
server_lifetime = 3600
server_idle_timeout = 600
logfile =
pidfile =
`, dbName, pgHost, pgPort, dbName, port, users, login, poolSize, poolSize), 0o644))

		b := &bouncer{port: port, logs: &servicetest.Logs{}}
		cmd := exec.Command(binary, ini)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		cmd.Stdout = cmd.Stderr
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				b.logs.Add(sc.Text())
			}
			done <- cmd.Wait()
		}()
		stop := func() {
			if cmd.ProcessState != nil {
				return
			}
			_ = cmd.Process.Signal(syscall.SIGTERM) // immediate shutdown
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}

		if lastErr = b.waitReady(done, 15*time.Second); lastErr == nil {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("pgbouncer logs:\n%s", b.logs.String())
				}
			})
			return b
		}
		stop()
		t.Logf("pgbouncer attempt %d did not start: %v\n%s", attempt+1, lastErr, b.logs.String())
	}
	t.Fatalf("pgbouncer did not start: %v", lastErr)
	return nil
}

// waitReady polls the admin console until it answers, the process exits, or timeout.
func (b *bouncer) waitReady(exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgconn.Connect(ctx, b.adminURL())
		if err == nil {
			_, err = conn.Exec(ctx, "SHOW VERSION").ReadAll()
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-exited:
			return fmt.Errorf("pgbouncer exited: %v", exitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %s: %w", timeout, err)
		}
	}
}

// version is PgBouncer's major and minor version, from SHOW VERSION ("PgBouncer 1.18.0").
func (b *bouncer) version(t *testing.T) (major, minor int) {
	t.Helper()
	rows := b.show(t, "SHOW VERSION")
	require.Len(t, rows, 1)
	var v string
	for _, v = range rows[0] {
	}
	_, err := fmt.Sscanf(strings.TrimPrefix(v, "PgBouncer "), "%d.%d", &major, &minor)
	require.NoError(t, err, "SHOW VERSION: %q", v)
	return major, minor
}

func (b *bouncer) adminURL() string {
	return b.databaseURL("pgbouncer")
}

// show runs an admin console command (simple protocol only) and returns its rows as
// column name → text value.
func (b *bouncer) show(t *testing.T, command string) []map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, b.adminURL())
	require.NoError(t, err)
	defer conn.Close(context.Background())
	results, err := conn.Exec(ctx, command).ReadAll()
	require.NoError(t, err, command)
	var out []map[string]string
	for _, r := range results {
		for _, row := range r.Rows {
			m := map[string]string{}
			for i, f := range r.FieldDescriptions {
				m[f.Name] = string(row[i])
			}
			out = append(out, m)
		}
	}
	return out
}

// servers lists the backend pids of dbName's server connections.
func (b *bouncer) servers(t *testing.T, dbName string) []int {
	t.Helper()
	var pids []int
	for _, row := range b.show(t, "SHOW SERVERS") {
		if row["database"] != dbName {
			continue
		}
		pid, err := strconv.Atoi(row["remote_pid"])
		require.NoError(t, err, "SHOW SERVERS remote_pid: %v", row)
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}

// clients counts dbName's client connections.
func (b *bouncer) clients(t *testing.T, dbName string) int {
	t.Helper()
	n := 0
	for _, row := range b.show(t, "SHOW CLIENTS") {
		if row["database"] == dbName {
			n++
		}
	}
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// Two replicas behind one transaction-pooling PgBouncer: they share its few server
// connections, and still behave as one service (docs/scaling.md).
func TestTwoReplicasThroughPgBouncer(t *testing.T) {
	pgbouncer := pgbouncerBinary(t)
	directURL := servicetest.NewDatabaseURL(t)
	dbName := strings.TrimPrefix(mustParseURL(t, directURL).Path, "/")
	migrateDirect(t, directURL)
	bouncer := startPgBouncer(t, pgbouncer, directURL, bouncerPoolSize)
	serviceURL := bouncer.databaseURL(dbName, "default_query_exec_mode="+bouncerExecMode)
	replicas := []*servicetest.Service{
		servicetest.StartArgs(t, []string{"serve"}, serviceURL, "DB_MAX_CONNS=4"),
		servicetest.StartArgs(t, []string{"serve"}, serviceURL, "DB_MAX_CONNS=4"),
	}
	requireReplicasAgree(t, directURL, replicas)
	require.LessOrEqual(t, len(bouncer.servers(t, dbName)), bouncerPoolSize, "both replicas shared the pooler's server connections")
	for _, svc := range replicas {
		require.NotContains(t, svc.Logs.String(), `"status":500`)
	}
}
