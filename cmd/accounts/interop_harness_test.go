package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brokerly/accounts/internal/servicetest"
)

// betterAuthHarness is one `node harness.mjs serve` process: loading Better Auth costs
// more than any command, so a test keeps one process per database and environment and
// sends it every command, one JSON line each way.
type betterAuthHarness struct {
	mu     sync.Mutex
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
}

// harnesses holds the running processes, keyed by test, database and environment.
var harnesses sync.Map

func harnessFor(t *testing.T, dbURL string, env []string) *betterAuthHarness {
	t.Helper()
	key := strings.Join(append([]string{t.Name(), dbURL}, env...), "\x00")
	if h, ok := harnesses.Load(key); ok {
		return h.(*betterAuthHarness)
	}
	if _, err := os.Stat(filepath.Join(harnessDir, "node_modules", "better-auth")); err != nil {
		t.Fatalf("better-auth is not installed: run `go tool task deps` (npm ci in %s)", harnessDir)
	}
	cmd := exec.Command("node", "harness.mjs", "serve")
	cmd.Dir = harnessDir
	// Better Auth prefers BETTER_AUTH_SECRETS to BETTER_AUTH_SECRET: only the test sets it.
	inherited := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "BETTER_AUTH_SECRETS=") })
	cmd.Env = append(append(inherited, "DATABASE_URL="+dbURL, "BETTER_AUTH_SECRET="+servicetest.Secret), env...)
	h := &betterAuthHarness{stderr: &lockedBuffer{}}
	cmd.Stderr = h.stderr
	var err error
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.stdout = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Better Auth harness: %v", err)
	}
	t.Cleanup(func() {
		harnesses.Delete(key)
		_ = h.stdin.Close() // the harness ends its pool and exits
		if err := cmd.Wait(); err != nil {
			t.Errorf("the Better Auth harness exited with %v: %s", err, h.stderr)
		}
	})
	harnesses.Store(key, h)
	return h
}

// run sends one command and returns its result.
func (h *betterAuthHarness) run(t *testing.T, args []string) []byte {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	line, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.stdin.Write(append(line, '\n')); err != nil {
		t.Fatalf("better-auth %v: %v: %s", args, err, h.stderr)
	}
	answer, err := h.stdout.ReadBytes('\n')
	if err != nil {
		t.Fatalf("better-auth %v: no answer (%v): %s", args, err, h.stderr)
	}
	var reply struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(answer, &reply); err != nil {
		t.Fatalf("better-auth %v: %v in %q", args, err, answer)
	}
	if !reply.OK {
		t.Fatalf("better-auth %v: %s\n%s", args, reply.Error, h.stderr)
	}
	return reply.Result
}

// lockedBuffer collects the harness's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
