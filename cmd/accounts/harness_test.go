package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// These helpers run the real binary, built once per test run, against databases the tests
// create and drop themselves.

const (
	testSecret = "e2e-test-secret-not-for-production-0123456789"
	// testKeys is CREDENTIAL_KEYS for the tests only.
	testKeys = "e2e-1:JF6DYEkdJet7T5vPqHVYfqOd8TZrC3JvrdygEZCvfJw="
)

var binary struct {
	once sync.Once
	path string
	err  error
}

func builtBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "accounts-e2e-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "accounts")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binary.err)
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		_ = os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

func adminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// databaseURL names a database that does not exist yet and drops it when the test ends.
func databaseURL(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("accounts_e2e_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
	u, err := url.Parse(adminURL())
	require.NoError(t, err)
	u.Path = "/" + name
	t.Cleanup(func() {
		execAdmin(t, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return u.String()
}

func execAdmin(t *testing.T, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(t, err)
}

func createDatabase(t *testing.T, dbURL string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	execAdmin(t, "CREATE DATABASE "+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize())
}

// sqlExec runs statements on the test's database as the superuser, for fixtures only.
func sqlExec(t *testing.T, dbURL, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	require.NoError(t, err)
}

// service is one running binary.
type service struct {
	cmd     *exec.Cmd
	baseURL string
	logs    *logBuffer
	done    chan error
}

type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// startService runs `accounts serve --migrate` on a free port and waits until it listens.
func startService(t *testing.T, dbURL string, extraEnv ...string) *service {
	t.Helper()
	return startServiceArgs(t, []string{"serve", "--migrate"}, dbURL, extraEnv...)
}

// startServiceArgs is startService with the binary's arguments given, e.g. a plain "serve"
// that must start while the database is down.
func startServiceArgs(t *testing.T, args []string, dbURL string, extraEnv ...string) *service {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"HTTP_ADDR=127.0.0.1:0",
		"BETTER_AUTH_SECRET=" + testSecret,
		"CORS_ALLOWED_ORIGINS=http://app.test",
		"LOG_LEVEL=info",
		"CREDENTIAL_KEYS=" + testKeys,
		// Every test client is the one loopback peer, and some send hundreds of refused
		// sessions on purpose (test 20's interleaving): the failed-authentication limit
		// would answer them 429. Test 32 sets its own limit; the rest run with a roomy one.
		"AUTH_FAILURE_BURST=100000",
	}, extraEnv...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	s := &service{cmd: cmd, logs: &logBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			s.logs.add(line)
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				addr <- entry.Addr
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("service logs:\n%s", s.logs.String())
		}
	})

	select {
	case a := <-addr:
		s.baseURL = "http://" + a
	case err := <-s.done:
		t.Fatalf("service exited before listening: %v\n%s", err, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("service did not start in time\n%s", s.logs.String())
	}
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *service) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("service did not stop within 30s of SIGTERM")
	}
	return s.cmd.ProcessState.ExitCode()
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

var client = &http.Client{Timeout: 10 * time.Second}

// call sends one request; headers come in name/value pairs.
func (s *service) call(t *testing.T, method, path, body string, headers ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.baseURL+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		require.NoError(t, json.Unmarshal(raw, &out.body), string(raw))
	}
	return out
}

// signedCookieValue is what Better Auth puts in its session cookie for token.
func signedCookieValue(token string) string {
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(token))
	return url.QueryEscape(token + "." + base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// insertUserWithSession writes a Better Auth user and session as Better Auth would and
// returns the browser's Cookie header for it.
func insertUserWithSession(t *testing.T, dbURL, userID string) string {
	t.Helper()
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	sqlExec(t, dbURL, `INSERT INTO "user" (id, name, email, "emailVerified") VALUES ($1, $1, $1 || '@example.test', false)`, userID)
	sqlExec(t, dbURL, `INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId") VALUES ($1, now() + interval '1 hour', $2, now(), $3)`,
		"s-"+token[:8], token, userID)
	return "better-auth.session_token=" + signedCookieValue(token)
}

// queryRow reads one row on the test's database as the superuser, for checks only.
func queryRow(t *testing.T, dbURL, sql string, dest ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, sql).Scan(dest...))
}
