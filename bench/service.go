package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
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
	"time"
)

// benchCredentialKey is the 32-byte CREDENTIAL_KEYS key of the throwaway service.
const benchCredentialKey = "bench-only-key-never-use-it-0123"

// serviceEnv is the benchmarked service's whole environment: nothing leaks in from the
// caller's (PATH only), so the run is the same on every machine.
func serviceEnv(dbURL string, o options) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"BETTER_AUTH_SECRET=" + benchSecret,
		// A fixed key for a throwaway database; the benchmarked routes never use it.
		"CREDENTIAL_KEYS=bench-1:" + base64.StdEncoding.EncodeToString([]byte(benchCredentialKey)),
		// No info line per request (the service has no other switch for it).
		"LOG_LEVEL=warn",
	}
	// Later duplicates win (os/exec keeps the last value of a key), so -service-env may
	// also override LOG_LEVEL.
	return append(env, o.serviceEnv...)
}

// serviceSettings names what the run sets beyond the service's defaults.
func serviceSettings(o options) string {
	return strings.Join(append([]string{"LOG_LEVEL=warn"}, o.serviceEnv...), ", ")
}

func runMigrate(ctx context.Context, binary string, env []string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "migrate")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("accounts migrate: %v\n%s", err, out)
	}
	return nil
}

// service is the running binary, watched by a sampler of its resident memory.
type service struct {
	cmd     *exec.Cmd
	baseURL string
	done    chan struct{}
	waitErr error
	logs    *tailBuffer

	mu      sync.Mutex
	peakRSS int64 // kB, since the last resetPeakRSS
	stopped bool
	quit    chan struct{}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startService runs `accounts serve` on a free loopback port and waits for /readyz.
func startService(ctx context.Context, binary string, env []string, stderr io.Writer) (*service, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(env, "HTTP_ADDR="+addr)
	logs := &tailBuffer{max: 64 << 10, echo: stderr}
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the service: %w", err)
	}
	s := &service{cmd: cmd, baseURL: "http://" + addr, done: make(chan struct{}), logs: logs, quit: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	go s.sampleRSS()

	deadline := time.Now().Add(time.Minute)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		res, err := client.Get(s.baseURL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the service exited before it was ready: %v\n%s", s.waitErr, logs.String())
		case <-ctx.Done():
			_ = s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stop()
			return nil, fmt.Errorf("the service was not ready within a minute\n%s", logs.String())
		}
	}
}

func (s *service) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM, waits for the drain, and kills after 30 s.
func (s *service) stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.quit)
	s.mu.Unlock()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("the service did not stop within 30s of SIGTERM; killed")
	}
	var exit *exec.ExitError
	if errors.As(s.waitErr, &exit) {
		return fmt.Errorf("the service exited with %v after SIGTERM\n%s", s.waitErr, s.logs.String())
	}
	return nil
}

// sampleRSS keeps the highest VmRSS seen since the last reset, every 100 ms.
func (s *service) sampleRSS() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-s.done:
			return
		case <-t.C:
			st := procStatus(s.pid())
			s.mu.Lock()
			s.peakRSS = max(s.peakRSS, st["VmRSS"])
			s.mu.Unlock()
		}
	}
}

func (s *service) resetPeakRSS() {
	s.mu.Lock()
	s.peakRSS = procStatus(s.pid())["VmRSS"]
	s.mu.Unlock()
}

func (s *service) peakRSSMB() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.peakRSS) / 1024
}

// memory returns VmHWM (the peak resident set of the whole life of the process) and
// VmRSS now, in MB.
func (s *service) memory() (hwm, rss float64) {
	st := procStatus(s.pid())
	return float64(st["VmHWM"]) / 1024, float64(st["VmRSS"]) / 1024
}

// procStatus reads the kB fields of /proc/<pid>/status; a missing file gives an empty map.
func procStatus(pid int) map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 2 && fields[1] == "kB" {
			if v, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
				out[name] = v
			}
		}
	}
	return out
}

// checkEndpoints makes one request per endpoint as user 1 and checks the answer, so a run
// never measures a fast stream of errors.
func checkEndpoints(ctx context.Context, baseURL string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	call := func(method, path string, body io.Reader) (map[string]any, error) {
		req, err := http.NewRequestWithContext(ctx, method, baseURL+path, body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+signedToken(token(1)))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, raw)
		}
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%s %s: %v: %s", method, path, err, raw)
		}
		return out, nil
	}
	list, err := call("GET", "/api/accounts", nil)
	if err != nil {
		return err
	}
	if list["count"] != float64(1) {
		return fmt.Errorf("GET /api/accounts for a seeded user: want count 1, got %v", list)
	}
	goc, err := call("POST", "/api/accounts/get-or-create", bytes.NewReader([]byte("{}")))
	if err != nil {
		return err
	}
	if goc["created"] != false {
		return fmt.Errorf("POST /api/accounts/get-or-create for a seeded user: want created false, got %v", goc)
	}
	return nil
}

// tailBuffer keeps the last max bytes of the service's output for error messages, and
// echoes warnings and errors (LOG_LEVEL=warn prints nothing else) to the bench's stderr.
type tailBuffer struct {
	mu     sync.Mutex
	buf    []byte
	max    int
	echo   io.Writer
	echoed int
}

const maxEchoed = 20

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	if t.echo != nil && t.echoed < maxEchoed && (bytes.Contains(p, []byte(`"level":"warn"`)) || bytes.Contains(p, []byte(`"level":"error"`))) {
		t.echoed++
		_, _ = t.echo.Write(p)
		if t.echoed == maxEchoed {
			_, _ = io.WriteString(t.echo, "bench: (further service warnings are not shown)\n")
		}
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
