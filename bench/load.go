package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loadResult is what one load step measured, from the client's side.
type loadResult struct {
	requests     int64 // requests (wrk) or transactions (pgbench) completed
	perSecond    float64
	p50, p99     time.Duration // 0 when not known
	errors       int64         // failed requests: non-2xx, socket errors, timeouts
	errorSummary string
	clientCPU    time.Duration // the load generator's own user+system time
	next         int64         // wrk: the position in its threads' user sequences where the next step starts
}

func (r loadResult) failures() int64 { return r.errors }

type wrkArgs struct {
	lua, url, method string
	tokens           string // the prefix of the files writeTokens wrote for this step's thread count
	threads, conns   int
	start            int64 // where each thread starts in its own sequence of users
	duration         time.Duration
}

// runWrk runs one wrk step: -t threads, -c connections; thread k of t sends the users k,
// k+t, k+2t, ... from a.start on (bench/wrk/accounts.lua).
func runWrk(ctx context.Context, a wrkArgs) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, a.duration+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk",
		"-t", strconv.Itoa(a.threads), "-c", strconv.Itoa(a.conns), "-d", seconds(a.duration),
		"--latency", "--timeout", "5s", "-s", a.lua, a.url, "--", a.tokens, a.method, strconv.FormatInt(a.start, 10))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return loadResult{}, fmt.Errorf("%w\n%s", err, out)
	}
	r.clientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, nil
}

var wrkLine = regexp.MustCompile(`(?m)^WRK_RESULT (.*)$`)

// parseWrk reads the line bench/wrk/accounts.lua prints in done().
func parseWrk(out string) (loadResult, error) {
	m := wrkLine.FindStringSubmatch(out)
	if m == nil {
		return loadResult{}, errors.New("wrk printed no WRK_RESULT line (is bench/wrk/accounts.lua in use?)")
	}
	v := map[string]int64{}
	for _, kv := range strings.Fields(m[1]) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return loadResult{}, fmt.Errorf("wrk result %s: %w", kv, err)
		}
		v[k] = n
	}
	if v["duration_us"] <= 0 {
		return loadResult{}, errors.New("wrk result has no duration")
	}
	r := loadResult{
		requests:  v["requests"],
		perSecond: float64(v["requests"]) / (float64(v["duration_us"]) / 1e6),
		p50:       time.Duration(v["p50_us"]) * time.Microsecond,
		p99:       time.Duration(v["p99_us"]) * time.Microsecond,
		next:      v["next"],
	}
	var parts []string
	for _, k := range []string{"status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"} {
		if v[k] > 0 {
			r.errors += v[k]
			parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), v[k]))
		}
	}
	r.errorSummary = strings.Join(parts, ", ")
	return r, nil
}

type pgbenchArgs struct {
	script                  string
	role                    pgRole
	users, clients, threads int
	duration                time.Duration
	logDir                  string
}

// runPgbench runs one pgbench step with the prepared protocol as the bench role, with
// per-transaction logs for p50/p99. --random-seed=rand: every step draws other users
// (pgbench gives each client its own random state from that seed).
func runPgbench(ctx context.Context, a pgbenchArgs) (loadResult, error) {
	if err := os.RemoveAll(a.logDir); err != nil {
		return loadResult{}, err
	}
	if err := os.MkdirAll(a.logDir, 0o755); err != nil {
		return loadResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.duration+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pgbench",
		"-n", "-M", "prepared", "--random-seed=rand",
		"-c", strconv.Itoa(a.clients), "-j", strconv.Itoa(min(a.threads, a.clients)),
		"-T", seconds(a.duration),
		"-f", a.script, "-D", "users="+strconv.Itoa(a.users),
		"-l", "--log-prefix", filepath.Join(a.logDir, "tx"),
		"-h", a.role.host, "-p", a.role.port, "-U", a.role.user, a.role.database)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+a.role.password, "PGSSLMODE=disable", "PGAPPNAME=accounts-bench")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("pgbench %s: %v\n%s", filepath.Base(a.script), err, out)
	}
	r, err := parsePgbench(string(out))
	if err != nil {
		return loadResult{}, fmt.Errorf("%w\n%s", err, out)
	}
	r.clientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	logs, _ := filepath.Glob(filepath.Join(a.logDir, "tx.*"))
	if r.p50, r.p99, err = pgbenchPercentiles(logs); err != nil {
		return loadResult{}, err
	}
	// Removed at once: written back later, the logs would cost the next step I/O.
	return r, os.RemoveAll(a.logDir)
}

var (
	pgbenchTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	pgbenchFailed    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
)

func parsePgbench(out string) (loadResult, error) {
	m := pgbenchTPS.FindStringSubmatch(out)
	if m == nil {
		return loadResult{}, errors.New("pgbench printed no tps line")
	}
	tps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return loadResult{}, fmt.Errorf("pgbench tps %q: %w", m[1], err)
	}
	r := loadResult{perSecond: tps}
	if m := pgbenchProcessed.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := pgbenchFailed.FindStringSubmatch(out); m != nil {
		r.errors, _ = strconv.ParseInt(m[1], 10, 64)
		if r.errors > 0 {
			r.errorSummary = m[0]
		}
	}
	return r, nil
}

// pgbenchPercentiles reads pgbench's per-transaction logs (-l): "client_id transaction_no
// time script_no time_epoch time_us", time being the transaction's latency in µs.
func pgbenchPercentiles(files []string) (p50, p99 time.Duration, err error) {
	var lat []int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return 0, 0, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			if us, err := strconv.ParseInt(fields[2], 10, 64); err == nil {
				lat = append(lat, us)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return 0, 0, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if len(lat) == 0 {
		return 0, 0, nil
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(lat))+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return time.Duration(lat[i]) * time.Microsecond
	}
	return at(0.50), at(0.99), nil
}

func seconds(d time.Duration) string {
	return strconv.Itoa(int(d.Round(time.Second) / time.Second))
}
