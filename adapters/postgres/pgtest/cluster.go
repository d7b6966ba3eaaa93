package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a private PostgreSQL server that one test owns: its own data directory, port
// and socket directory, so the test may stop, restart, pause or cut it (reliability tests
// 33–39) without touching the shared server on 5432. It listens on 127.0.0.1 only, with
// trust authentication for the superuser "postgres" and durability switched off (it is
// thrown away).
type Cluster struct {
	bin     string // directory of initdb, pg_ctl and postgres
	dir     string // everything: data, socket, log
	dataDir string
	logFile string
	port    int
	// asUser is "postgres" when the test runs as root: PostgreSQL refuses to run as root,
	// so its programs are started through runuser.
	asUser string

	mu     sync.Mutex
	paused []int // pids stopped by Pause, resumed by Resume or cleanup
}

// clusterTimeout bounds each pg_ctl action (start waits for recovery after a crash too).
const clusterTimeout = 60 * time.Second

// StartCluster initialises and starts a cluster in a fresh temporary directory. Cleanup
// resumes it if paused, stops it (immediate mode) and removes the directory; when the test
// failed, the server log is printed first.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := postgresBinDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "pgtest-cluster-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c := &Cluster{bin: bin, dir: dir, dataDir: filepath.Join(dir, "data"), logFile: filepath.Join(dir, "server.log")}
	t.Cleanup(func() { c.cleanup(t) })

	if os.Geteuid() == 0 {
		c.asUser = "postgres"
		if err := chownToUser(dir, c.asUser); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	c.run(t, "initdb", "-D", c.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")

	// A free port can be taken between picking and binding it: try a few.
	for attempt := 1; ; attempt++ {
		c.port = freePort(t)
		c.writeConfig(t)
		err := c.pgCtl("start", "-w", "-t", strconv.Itoa(int(clusterTimeout.Seconds())), "-l", c.logFile)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("pgtest: start the cluster: %v\n%s", err, c.Log())
		}
	}
	return c
}

// URL is a superuser connection URL for database db on this cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Port is the TCP port the cluster listens on (127.0.0.1 only).
func (c *Cluster) Port() int { return c.port }

// Stop stops the server with pg_ctl's mode: "smart", "fast" or "immediate".
func (c *Cluster) Stop(t testing.TB, mode string) {
	t.Helper()
	if err := c.pgCtl("stop", "-w", "-t", strconv.Itoa(int(clusterTimeout.Seconds())), "-m", mode); err != nil {
		t.Fatalf("pgtest: stop the cluster (%s): %v\n%s", mode, err, c.Log())
	}
}

// Start starts a stopped server and returns once it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if err := c.pgCtl("start", "-w", "-t", strconv.Itoa(int(clusterTimeout.Seconds())), "-l", c.logFile); err != nil {
		t.Fatalf("pgtest: start the cluster: %v\n%s", err, c.Log())
	}
}

// Restart is `pg_ctl restart -m fast`: sessions are terminated (57P01), the server shuts
// down and comes back; it returns once the server accepts connections again.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.pgCtl("restart", "-w", "-t", strconv.Itoa(int(clusterTimeout.Seconds())), "-m", "fast", "-l", c.logFile); err != nil {
		t.Fatalf("pgtest: restart the cluster: %v\n%s", err, c.Log())
	}
}

// Pause freezes the server with SIGSTOP: the postmaster first (so it forks nothing new),
// then every process it started (backends, checkpointer, ...). The kernel still completes
// TCP handshakes into the listen backlog, but nothing answers: a black hole.
func (c *Cluster) Pause(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.paused) > 0 {
		t.Fatal("pgtest: the cluster is already paused")
	}
	pm, err := c.postmasterPID()
	if err != nil {
		t.Fatalf("pgtest: pause: %v", err)
	}
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		t.Fatalf("pgtest: pause the postmaster %d: %v", pm, err)
	}
	c.paused = append(c.paused, pm)
	for _, pid := range childrenOf(pm) {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err == nil {
			c.paused = append(c.paused, pid)
		}
	}
}

// Resume undoes Pause with SIGCONT, children first and the postmaster last.
func (c *Cluster) Resume(t testing.TB) {
	t.Helper()
	if err := c.resume(); err != nil {
		t.Fatalf("pgtest: resume: %v", err)
	}
}

func (c *Cluster) resume() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for i := len(c.paused) - 1; i >= 0; i-- {
		if err := syscall.Kill(c.paused[i], syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("SIGCONT %d: %w", c.paused[i], err))
		}
	}
	c.paused = nil
	return errors.Join(errs...)
}

// TerminateBackends ends every session of role usename (except the caller's own) with
// pg_terminate_backend, as an operator would, and returns how many it ended.
func (c *Cluster) TerminateBackends(t testing.TB, usename string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: terminate backends: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE usename = $1 AND pid <> pg_backend_pid()`, usename).Scan(&n)
	if err != nil {
		t.Fatalf("pgtest: terminate backends: %v", err)
	}
	return n
}

// Log returns the server log so far, for failure messages.
func (c *Cluster) Log() string {
	b, err := os.ReadFile(c.logFile)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	return string(b)
}

func (c *Cluster) cleanup(t testing.TB) {
	if err := c.resume(); err != nil {
		t.Logf("pgtest: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "postmaster.pid")); err == nil {
		if err := c.pgCtl("stop", "-w", "-t", "30", "-m", "immediate"); err != nil {
			t.Logf("pgtest: stop the cluster: %v", err)
		}
	}
	if t.Failed() {
		log := c.Log()
		if len(log) > 8000 {
			log = "...\n" + log[len(log)-8000:]
		}
		t.Logf("pgtest: server log of the private cluster:\n%s", log)
	}
	_ = os.RemoveAll(c.dir)
}

// writeConfig appends this cluster's settings to postgresql.conf; a later line wins, so a
// retry with another port simply appends again.
func (c *Cluster) writeConfig(t testing.TB) {
	t.Helper()
	settings := []string{
		"listen_addresses = '127.0.0.1'",
		"port = " + strconv.Itoa(c.port),
		"unix_socket_directories = '" + c.dir + "'",
		"max_connections = 40",
		"shared_buffers = 16MB",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"dynamic_shared_memory_type = posix",
		"log_min_messages = warning",
		"log_connections = off",
		"log_line_prefix = '%m [%p] %u '",
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n# pgtest.StartCluster\n" + strings.Join(settings, "\n") + "\n"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// run runs one of the PostgreSQL programs and fails the test on error.
func (c *Cluster) run(t testing.TB, program string, args ...string) {
	t.Helper()
	if out, err := c.command(program, args...).CombinedOutput(); err != nil {
		t.Fatalf("pgtest: %s: %v\n%s", program, err, out)
	}
}

func (c *Cluster) pgCtl(action string, args ...string) error {
	out, err := c.command("pg_ctl", append([]string{action, "-D", c.dataDir}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", action, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *Cluster) command(program string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, program)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// postmasterPID reads the first line of postmaster.pid.
func (c *Cluster) postmasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("the cluster is not running: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// childrenOf lists the processes whose parent is pid, from /proc/<pid>/stat.
func childrenOf(parent int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may contain spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil && ppid == parent {
			out = append(out, pid)
		}
	}
	return out
}

// postgresBinDir finds initdb and pg_ctl: PG_BINDIR, then pg_config --bindir, then the
// newest /usr/lib/postgresql/*/bin (Debian and Ubuntu keep them off PATH).
func postgresBinDir() (string, error) {
	has := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "pg_ctl"))
		return err == nil
	}
	if d := os.Getenv("PG_BINDIR"); d != "" && has(d) {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); has(d) {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (pg_ctl) found: set PG_BINDIR")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func chownToUser(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("PostgreSQL refuses to run as root and there is no %q user: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
