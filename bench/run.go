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
	svc      side    // wrk against the service
	naive    side    // pgbench with the naive script
	pipeline side    // pgbench with the pipeline script; zero when the endpoint has none
	rssMB    float64 // the service's highest VmRSS during its step
	// service req/s over each pgbench's tps (with rounds: the median of the rounds' ratios)
	toNaive, toPipeline float64
	rounds              int // how many rounds the medians are of (0 or 1: one)
}

// side is one load step: what the client saw and where the CPU went.
type side struct {
	load loadResult
	cpu  cpuSplit
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
	tokens := tokenFiles{dir: work, users: o.users, logf: logf, files: map[int]string{}}
	for _, c := range o.conns {
		if _, err := tokens.forThreads(min(threads, c)); err != nil {
			return err
		}
	}
	scripts := filepath.Join(root, "bench")
	for _, ep := range o.endpoints {
		if ep.pipeline != "" {
			if err := checkPipelineScript(ctx, pgRole, filepath.Join(scripts, "pgbench", ep.pipeline)); err != nil {
				return err
			}
		}
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

	lua := filepath.Join(scripts, "wrk", "accounts.lua")
	// sent counts the users the wrk steps have gone through (thread k of t sends users k,
	// k+t, ...): each step starts where the last one stopped, so a run with enough users
	// never sends a user twice.
	var sent int64
	wrkStep := func(ep endpoint, conns int, d time.Duration) (loadResult, error) {
		t := min(threads, conns)
		prefix, err := tokens.forThreads(t)
		if err != nil {
			return loadResult{}, err
		}
		r, err := runWrk(ctx, wrkArgs{lua: lua, url: svc.baseURL + ep.path, method: ep.method, tokens: prefix,
			threads: t, conns: conns, start: (sent + int64(t) - 1) / int64(t), duration: d})
		if err == nil {
			sent = max(sent, r.next*int64(t))
		}
		return r, err
	}
	pgbenchStep := func(script string, conns int) (side, error) {
		meter := startCPUMeter(db.name, 0)
		r, err := runPgbench(ctx, pgbenchArgs{script: filepath.Join(scripts, "pgbench", script), role: pgRole,
			users: o.users, clients: conns, threads: threads, duration: o.duration, logDir: filepath.Join(work, "pglog")})
		return side{load: r, cpu: meter.finish(r.clientCPU, r.requests)}, err
	}
	var results []result
	for _, ep := range o.endpoints {
		logf("warm-up %s (%s, %d connections)", ep.name, o.warmup, o.conns[0])
		if _, err := wrkStep(ep, o.conns[0], o.warmup); err != nil {
			return fmt.Errorf("warm-up: %w", err)
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
				r.svc.load, err = wrkStep(ep, c, o.duration)
				r.svc.cpu = meter.finish(r.svc.load.clientCPU, r.svc.load.requests)
				if err != nil {
					return err
				}
				r.rssMB = svc.peakRSSMB()

				for _, s := range []struct {
					script string
					dst    *side
				}{{ep.script, &r.naive}, {ep.pipeline, &r.pipeline}} {
					if s.script == "" {
						continue
					}
					logf("pgbench %-34s %3d clients,     %s%s", s.script, c, o.duration, label)
					if *s.dst, err = pgbenchStep(s.script, c); err != nil {
						return err
					}
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
		loadBefore: loadBefore, loadAfter: loadAvg(), built: built, usersSent: sent,
	})
	return checkErrors(results)
}

// combine reduces the rounds of one endpoint and connection count to their medians; the
// ratios are the medians of each round's ratios, since a round's steps ran back to back
// under the same conditions. Errors add up; peak RSS is the highest.
func combine(rounds []result) result {
	out := result{endpoint: rounds[0].endpoint, conns: rounds[0].conns, rounds: len(rounds)}
	if len(rounds) == 1 {
		out = rounds[0]
	} else {
		out.svc = combineSide(rounds, func(r result) side { return r.svc })
		out.naive = combineSide(rounds, func(r result) side { return r.naive })
		out.pipeline = combineSide(rounds, func(r result) side { return r.pipeline })
		for _, r := range rounds {
			out.rssMB = max(out.rssMB, r.rssMB)
		}
	}
	out.toNaive = median(rounds, func(r result) float64 { return ratioOf(r.svc, r.naive) })
	out.toPipeline = median(rounds, func(r result) float64 { return ratioOf(r.svc, r.pipeline) })
	return out
}

func combineSide(rounds []result, get func(result) side) side {
	var out side
	var summaries []string
	for _, r := range rounds {
		x := get(r).load
		out.load.requests += x.requests
		out.load.errors += x.errors
		if x.errorSummary != "" {
			summaries = append(summaries, x.errorSummary)
		}
	}
	out.load.errorSummary = strings.Join(summaries, "; ")
	med := func(f func(side) float64) float64 { return median(rounds, func(r result) float64 { return f(get(r)) }) }
	dur := func(f func(side) time.Duration) time.Duration {
		return time.Duration(med(func(s side) float64 { return float64(f(s)) }))
	}
	out.load.perSecond = med(func(s side) float64 { return s.load.perSecond })
	out.load.p50 = dur(func(s side) time.Duration { return s.load.p50 })
	out.load.p99 = dur(func(s side) time.Duration { return s.load.p99 })
	for _, r := range rounds {
		if !get(r).cpu.ok {
			return out
		}
	}
	out.cpu = cpuSplit{
		service:    med(func(s side) float64 { return s.cpu.service }),
		postgres:   med(func(s side) float64 { return s.cpu.postgres }),
		client:     med(func(s side) float64 { return s.cpu.client }),
		other:      med(func(s side) float64 { return s.cpu.other }),
		serviceUS:  med(func(s side) float64 { return s.cpu.serviceUS }),
		postgresUS: med(func(s side) float64 { return s.cpu.postgresUS }),
		ok:         true,
	}
	return out
}

func median(rounds []result, get func(result) float64) float64 {
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

func ratioOf(svc, pg side) float64 {
	if pg.load.perSecond <= 0 {
		return 0
	}
	return svc.load.perSecond / pg.load.perSecond
}

// checkErrors fails the run when any request failed: a fast error is not a fast answer.
func checkErrors(results []result) error {
	var errs []error
	for _, r := range results {
		if n := r.svc.load.failures(); n > 0 {
			errs = append(errs, fmt.Errorf("%s at %d connections: %d of %d requests failed (%s)",
				r.endpoint.name, r.conns, n, r.svc.load.requests, r.svc.load.errorSummary))
		}
		if r.svc.load.requests == 0 {
			errs = append(errs, fmt.Errorf("%s at %d connections: no request completed", r.endpoint.name, r.conns))
		}
		for _, s := range []struct {
			script string
			side   side
		}{{r.endpoint.script, r.naive}, {r.endpoint.pipeline, r.pipeline}} {
			if s.script == "" {
				continue
			}
			if n := s.side.load.failures(); n > 0 {
				errs = append(errs, fmt.Errorf("pgbench %s at %d clients: %d failed transactions (%s)",
					s.script, r.conns, n, s.side.load.errorSummary))
			}
			if s.side.load.requests == 0 {
				errs = append(errs, fmt.Errorf("pgbench %s at %d clients: no transaction completed", s.script, r.conns))
			}
		}
	}
	return errors.Join(errs...)
}

// tokenFiles writes the bearer files for a thread count the first time a step needs it.
type tokenFiles struct {
	dir   string
	users int
	logf  func(format string, args ...any)
	files map[int]string // thread count → file prefix
}

func (t *tokenFiles) forThreads(n int) (string, error) {
	if p, ok := t.files[n]; ok {
		return p, nil
	}
	p := filepath.Join(t.dir, fmt.Sprintf("tokens-%dt", n))
	start := time.Now()
	if err := writeTokens(p, t.users, n); err != nil {
		return "", err
	}
	t.logf("wrote the bearers of %d users for %d wrk threads in %s", t.users, n, time.Since(start).Round(100*time.Millisecond))
	t.files[n] = p
	return p, nil
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
