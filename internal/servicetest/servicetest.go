// Package servicetest runs the real accounts binary for end-to-end and fault tests: built
// once per test process, listening on a free loopback port, and handed to the test only
// once /readyz answers. Sessions are signed exactly as Better Auth signs them, with
// betterauth.SignValue, and written to the database as Better Auth writes them.
package servicetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brokerly/accounts/adapters/postgres/pgtest"
)

const (
	// Secret is BETTER_AUTH_SECRET of every service these tests start.
	Secret = "e2e-test-secret-not-for-production-0123456789"
	// Keys is CREDENTIAL_KEYS for the tests only.
	Keys = "e2e-1:JF6DYEkdJet7T5vPqHVYfqOd8TZrC3JvrdygEZCvfJw="
	// Origin is the one browser origin the services allow.
	Origin = "http://app.test"
)

var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary builds ./cmd/accounts once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "accounts-e2e-")
		if err != nil {
			binary.err = err
			return
		}
		binary.dir, binary.path = dir, filepath.Join(dir, "accounts")
		cmd := exec.Command("go", "build", "-o", binary.path, "./cmd/accounts")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// moduleRoot is the repository's root: two directories above this file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Main runs a package's tests, then removes the built binary and the migrated template;
// call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	pgtest.DropTemplate()
	os.Exit(code)
}

// Service is one running binary.
type Service struct {
	Cmd *exec.Cmd
	URL string // http://127.0.0.1:<port>
	// MetricsURL is the metrics listener's base URL, when metrics are on.
	MetricsURL string
	Logs       *Logs
	// Done receives the process's exit once it has exited.
	Done <-chan error
}

// Logs collects the service's log lines (JSON, one per line).
type Logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *Logs) Add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Lines returns a copy of every line so far.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Env is what every service gets unless the test overrides it (later entries win).
func Env(dbURL string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"HTTP_ADDR=127.0.0.1:0",
		"METRICS_ADDR=127.0.0.1:0",
		"BETTER_AUTH_SECRET=" + Secret,
		"CORS_ALLOWED_ORIGINS=" + Origin,
		"LOG_LEVEL=info",
		"CREDENTIAL_KEYS=" + Keys,
		// Every test client is the one loopback peer, and some send hundreds of refused
		// sessions on purpose (test 20's interleaving): the failed-authentication limit
		// would answer them 429. Test 32 sets its own limit; the rest run with a roomy one.
		"AUTH_FAILURE_BURST=100000",
	}
}

// Start runs `accounts serve --migrate` on dbURL (the database need not exist) and
// returns once /readyz answers 200.
func Start(t testing.TB, dbURL string, env ...string) *Service {
	t.Helper()
	return StartArgs(t, []string{"serve", "--migrate"}, dbURL, env...)
}

// StartArgs is Start with the binary's arguments given, e.g. a plain "serve".
func StartArgs(t testing.TB, args []string, dbURL string, env ...string) *Service {
	t.Helper()
	s := Launch(t, args, dbURL, env...)
	s.WaitReady(t, 60*time.Second)
	return s
}

// Launch starts the binary and returns once it listens, ready or not: for tests of a
// service whose database is down, or not yet safe to use.
func Launch(t testing.TB, args []string, dbURL string, env ...string) *Service {
	t.Helper()
	return LaunchUnder(t, nil, args, dbURL, env...)
}

// LaunchUnder is Launch with the binary started by a wrapper command that execs it, such
// as `prlimit --nofile=256 --`, so that it keeps the process (its pid and signals).
func LaunchUnder(t testing.TB, wrapper, args []string, dbURL string, env ...string) *Service {
	t.Helper()
	argv := append(append(append([]string{}, wrapper...), Binary(t)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(Env(dbURL), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	s := &Service{Cmd: cmd, Logs: &Logs{}, Done: done}
	addr, metricsAddr := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			s.Logs.Add(line)
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil {
				switch entry.Msg {
				case "listening":
					addr <- entry.Addr
				case "metrics listening":
					metricsAddr <- entry.Addr
				}
			}
		}
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.Done
		}
		if t.Failed() {
			t.Logf("service logs:\n%s", s.Logs.String())
		}
	})
	select {
	case a := <-addr:
		s.URL = "http://" + a
		select { // logged before the public listener, when metrics are on
		case m := <-metricsAddr:
			s.MetricsURL = "http://" + m
		default:
		}
	case err := <-s.Done:
		t.Fatalf("service exited before listening: %v\n%s", err, s.Logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("service did not start in time\n%s", s.Logs.String())
	}
	return s
}

var probe = &http.Client{Timeout: 2 * time.Second}

// WaitReady polls /readyz until it answers 200, and fails the test after timeout or if
// the process exits.
func (s *Service) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if res, err := probe.Get(s.URL + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not ready within %s\n%s", timeout, s.Logs.String())
		}
		select {
		case err := <-s.Done:
			t.Fatalf("service exited before it was ready: %v\n%s", err, s.Logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and returns the exit code.
func (s *Service) Stop(t testing.TB) int {
	t.Helper()
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done:
	case <-time.After(30 * time.Second):
		t.Fatal("service did not stop within 30s of SIGTERM")
	}
	return s.Cmd.ProcessState.ExitCode()
}

// Run runs the binary with args to completion (bounded by timeout) and returns its exit
// code and combined output.
func Run(t testing.TB, timeout time.Duration, dbURL string, args []string, env ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = append(Env(dbURL), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("accounts %v did not finish within %s\n%s", args, timeout, out)
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("accounts %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}
