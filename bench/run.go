package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// result is one row of the table: one endpoint at one client count.
type result struct {
	endpoint endpoint
	conns    int
	svc      loadResult
	pg       loadResult
	rssMB    float64 // the service's highest VmRSS during its step
	ratio    float64 // service req/s over pgbench tps (the median of the rounds' ratios)
	rounds   int     // how many rounds the medians are of (0 or 1: one)
	cpu      cpuSplit
	pgCPU    cpuSplit
}

// run is the whole benchmark; every step is bounded by ctx and by its own deadline.
func run(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	for _, tool := range []string{"wrk", "pgbench"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (go tool task deps:bench installs wrk and pgbench with apt-get)", tool)
		}
	}
	loadBefore := loadAvg()
	if l, err := strconv.ParseFloat(strings.Fields(loadBefore + " 0")[0], 64); err == nil && l > 0.5*float64(runtime.NumCPU()) {
		logf("WARNING: load average %s before the run on %d CPUs: other work will distort the numbers", loadBefore, runtime.NumCPU())
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "accounts-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	binary, src, built := filepath.Join(work, "accounts"), root, ""
	if o.rev != "" {
		if src, built, err = exportRev(ctx, root, o.rev, filepath.Join(work, "src")); err != nil {
			return err
		}
	} else {
		built = workTreeLabel(ctx, root)
	}
	logf("building ./cmd/accounts of %s", built)
	if err := goBuild(ctx, src, binary); err != nil {
		return err
	}

	db, err := newBenchDB(ctx, o.adminURL)
	if err != nil {
		return err
	}
	logf("database %s", db.name)
	defer func() {
		if o.keep {
			logf("kept database %s (-keep); drop it with: DROP DATABASE %s WITH (FORCE)", db.name, db.name)
			return
		}
		dropCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if derr := db.drop(dropCtx); derr != nil {
			err = errors.Join(err, derr)
		}
	}()

	svcEnv := serviceEnv(db.url, o)
	if err := runMigrate(ctx, binary, svcEnv); err != nil {
		return err
	}
	seedStart := time.Now()
	if err := db.seed(ctx, o.users); err != nil {
		return err
	}
	seedTime := time.Since(seedStart)
	logf("seeded %d users, sessions and accounts in %s (vacuum analyze and checkpoint included)", o.users, seedTime.Round(100*time.Millisecond))
	pgRole, err := db.setupBenchRole(ctx)
	if err != nil {
		return err
	}
	tokensFile := filepath.Join(work, "tokens.txt")
	if err := writeTokens(tokensFile, o.users); err != nil {
		return err
	}

	svc, err := startService(ctx, binary, svcEnv, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if serr := svc.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	logf("service pid %d on %s (%s)", svc.pid(), svc.baseURL, serviceSettings(o))
	if err := checkEndpoints(ctx, svc.baseURL); err != nil {
		return err
	}

	scripts := filepath.Join(root, "bench")
	lua := filepath.Join(scripts, "wrk", "accounts.lua")
	var results []result
	for _, ep := range o.endpoints {
		if o.warmup > 0 {
			logf("warm-up %s (%s, %d connections)", ep.name, o.warmup, o.conns[0])
			if _, err := runWrk(ctx, wrkArgs{lua: lua, url: svc.baseURL + ep.path, method: ep.method, tokens: tokensFile,
				threads: threads, conns: o.conns[0], duration: o.warmup}); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		for _, c := range o.conns {
			var rounds []result
			for round := 1; round <= o.rounds; round++ {
				r := result{endpoint: ep, conns: c}
				label := ""
				if o.rounds > 1 {
					label = fmt.Sprintf(" (round %d/%d)", round, o.rounds)
				}

				logf("wrk     %-34s %3d connections, %s%s", ep.name, c, o.duration, label)
				svc.resetPeakRSS()
				meter := startCPUMeter(db.name, svc.pid())
				r.svc, err = runWrk(ctx, wrkArgs{lua: lua, url: svc.baseURL + ep.path, method: ep.method, tokens: tokensFile,
					threads: threads, conns: c, duration: o.duration})
				r.cpu = meter.finish(r.svc.clientCPU)
				if err != nil {
					return err
				}
				r.rssMB = svc.peakRSSMB()

				logf("pgbench %-34s %3d clients,     %s%s", ep.script, c, o.duration, label)
				meter = startCPUMeter(db.name, 0)
				r.pg, err = runPgbench(ctx, pgbenchArgs{script: filepath.Join(scripts, "pgbench", ep.script), role: pgRole,
					users: o.users, clients: c, threads: threads, duration: o.duration, logDir: filepath.Join(work, "pglog")})
				r.pgCPU = meter.finish(r.pg.clientCPU)
				if err != nil {
					return err
				}
				rounds = append(rounds, r)
			}
			results = append(results, combine(rounds))
		}
	}
	hwm, rss := svc.memory()
	if err := db.checkUnchanged(ctx, o.users); err != nil {
		return err
	}

	env := machine(ctx, db)
	printReport(stdout, report{
		opts: o, results: results, seedTime: seedTime, hwmMB: hwm, rssMB: rss, machine: env,
		loadBefore: loadBefore, loadAfter: loadAvg(), built: built,
	})
	return checkErrors(results)
}

// combine reduces the rounds of one endpoint and connection count to their medians; the
// ratio is the median of each round's ratio, since a round's wrk and pgbench steps ran
// back to back under the same conditions. Errors add up; peak RSS is the highest.
func combine(rounds []result) result {
	if len(rounds) == 1 {
		rounds[0].ratio = ratioOf(rounds[0])
		return rounds[0]
	}
	out := result{endpoint: rounds[0].endpoint, conns: rounds[0].conns, rounds: len(rounds)}
	med := func(get func(result) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = get(r)
		}
		slices.Sort(v)
		if n := len(v); n%2 == 1 {
			return v[n/2]
		} else {
			return (v[n/2-1] + v[n/2]) / 2
		}
	}
	dur := func(get func(result) time.Duration) time.Duration {
		return time.Duration(med(func(r result) float64 { return float64(get(r)) }))
	}
	for _, side := range []struct {
		dst *loadResult
		get func(result) loadResult
	}{{&out.svc, func(r result) loadResult { return r.svc }}, {&out.pg, func(r result) loadResult { return r.pg }}} {
		var summaries []string
		for _, r := range rounds {
			x := side.get(r)
			side.dst.requests += x.requests
			side.dst.errors += x.errors
			if x.errorSummary != "" {
				summaries = append(summaries, x.errorSummary)
			}
		}
		side.dst.errorSummary = strings.Join(summaries, "; ")
		side.dst.perSecond = med(func(r result) float64 { return side.get(r).perSecond })
		side.dst.p50 = dur(func(r result) time.Duration { return side.get(r).p50 })
		side.dst.p99 = dur(func(r result) time.Duration { return side.get(r).p99 })
	}
	for _, r := range rounds {
		out.rssMB = max(out.rssMB, r.rssMB)
	}
	cpu := func(get func(result) cpuSplit) cpuSplit {
		for _, r := range rounds {
			if !get(r).ok {
				return cpuSplit{}
			}
		}
		return cpuSplit{
			service:  med(func(r result) float64 { return get(r).service }),
			postgres: med(func(r result) float64 { return get(r).postgres }),
			client:   med(func(r result) float64 { return get(r).client }),
			other:    med(func(r result) float64 { return get(r).other }),
			ok:       true,
		}
	}
	out.cpu = cpu(func(r result) cpuSplit { return r.cpu })
	out.pgCPU = cpu(func(r result) cpuSplit { return r.pgCPU })
	out.ratio = med(ratioOf)
	return out
}

func ratioOf(r result) float64 {
	if r.pg.perSecond <= 0 {
		return 0
	}
	return r.svc.perSecond / r.pg.perSecond
}

// checkErrors fails the run when any request failed: a fast error is not a fast answer.
func checkErrors(results []result) error {
	var errs []error
	for _, r := range results {
		if n := r.svc.failures(); n > 0 {
			errs = append(errs, fmt.Errorf("%s at %d connections: %d of %d requests failed (%s)",
				r.endpoint.name, r.conns, n, r.svc.requests, r.svc.errorSummary))
		}
		if r.svc.requests == 0 {
			errs = append(errs, fmt.Errorf("%s at %d connections: no request completed", r.endpoint.name, r.conns))
		}
		if r.pg.requests == 0 {
			errs = append(errs, fmt.Errorf("pgbench %s at %d clients: no transaction completed", r.endpoint.script, r.conns))
		}
	}
	return errors.Join(errs...)
}

func goBuild(ctx context.Context, root, out string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/accounts")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/accounts: %v\n%s", err, b)
	}
	return nil
}

// exportRev extracts rev's tree (git archive) into dir, for a build of a committed
// revision whatever the working tree holds.
func exportRev(ctx context.Context, root, rev, dir string) (src, label string, err error) {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", rev+"^{commit}").Output()
	if err != nil {
		return "", "", fmt.Errorf("-rev %s: not a commit of this repository", rev)
	}
	hash := strings.TrimSpace(string(out))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	archive := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", hash)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	if untar.Stdin, err = archive.StdoutPipe(); err != nil {
		return "", "", err
	}
	if err := untar.Start(); err != nil {
		return "", "", err
	}
	aerr := archive.Run()
	if err := errors.Join(aerr, untar.Wait()); err != nil {
		return "", "", fmt.Errorf("export %s: %w", hash, err)
	}
	return dir, "commit " + hash, nil
}

// workTreeLabel names what a working-tree build contains: HEAD, and whether files outside
// the bench's own differ from it.
func workTreeLabel(ctx context.Context, root string) string {
	head, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "the working tree"
	}
	label := "the working tree at " + strings.TrimSpace(string(head))
	dirty, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no",
		"--", ".", ":!bench", ":!docs", ":!Taskfile.yml").Output()
	if err == nil && len(strings.TrimSpace(string(dirty))) > 0 {
		label += " with uncommitted changes"
	}
	return label
}

// machineInfo is what docs/benchmarks.md records about where a run happened.
type machineInfo struct {
	cpus     int
	model    string
	memory   string
	postgres string
	goVer    string
}

func machine(ctx context.Context, db *benchDB) machineInfo {
	m := machineInfo{cpus: runtime.NumCPU(), model: cpuModel(), memory: memTotal(), goVer: runtime.Version()}
	m.postgres = db.serverVersion(ctx)
	return m
}

// loadAvg is the 1, 5 and 15 minute load averages: a busy machine makes any run suspect.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
