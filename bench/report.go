package main

import (
	"fmt"
	"io"
	"time"
)

type report struct {
	opts     options
	results  []result
	seedTime time.Duration
	hwmMB    float64
	rssMB    float64
	machine  machineInfo

	loadBefore, loadAfter string
	built                 string // which service was measured
}

// printReport writes the run as markdown: a header of what ran where, the table, and the
// issue's targets that this run can check.
func printReport(w io.Writer, r report) {
	m := r.machine
	fmt.Fprintf(w, "\n### accounts bench: %d users, %s steps\n\n", r.opts.users, r.opts.duration)
	if r.opts.rounds > 1 {
		fmt.Fprintf(w, "- every row: the median of %d rounds (a wrk step then a pgbench step, back to back); ratio: the median of the rounds' ratios; peak RSS: the highest\n", r.opts.rounds)
	}
	fmt.Fprintf(w, "- machine: %d CPUs (%s), %s RAM; %s; %s\n", m.cpus, m.model, m.memory, m.postgres, m.goVer)
	fmt.Fprintf(w, "- load average before / after the run: %s / %s (the bench's own load included after)\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(w, "- seeding %d users (user, session, account; vacuum analyze; checkpoint): %s\n", r.opts.users, r.seedTime.Round(100*time.Millisecond))
	fmt.Fprintf(w, "- service: built from %s; its defaults but %s; wrk -t %d --latency, random user per request (bearer)\n",
		r.built, serviceSettings(r.opts), threads)
	fmt.Fprintf(w, "- pgbench: -M prepared -j %d as %s (non-owner, member of accounts_app), random user per transaction\n", threads, benchRole)
	fmt.Fprintf(w, "- service peak RSS (VmHWM, whole run): %.1f MB; VmRSS at the end: %.1f MB\n", r.hwmMB, r.rssMB)
	fmt.Fprintf(w, "- CPU columns: %% of one core during the step: the service / the bench database's PostgreSQL backends / the load generator / everything else on the machine (%d CPUs = %d%%; a large last number means the step is distorted)\n\n", m.cpus, 100*m.cpus)

	fmt.Fprintln(w, "| endpoint | conns | service req/s | p50 ms | p99 ms | pgbench tps | pgbench p50 ms | pgbench p99 ms | ratio | peak RSS MB | CPU svc/pg/wrk/other | CPU pg/pgbench/other |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range r.results {
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %.0f | %s | %s | %s | %.1f | %s | %s |\n",
			x.endpoint.name, x.conns, x.svc.perSecond, ms(x.svc.p50), ms(x.svc.p99),
			x.pg.perSecond, ms(x.pg.p50), ms(x.pg.p99), ratio(x), x.rssMB,
			split3(x.cpu), split2(x.pgCPU))
	}

	fmt.Fprintf(w, "\nTargets: GET ≥ 1.0× pgbench at 8 and 64; GET p99 ≤ 10 ms at 32; get-or-create ≥ 0.8×; peak RSS < 100 MB.\n")
	for _, line := range verdicts(r) {
		fmt.Fprintln(w, "- "+line)
	}
	fmt.Fprintln(w)
}

func verdicts(r report) []string {
	var out []string
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	for _, x := range r.results {
		if x.ratio <= 0 {
			continue
		}
		rt := x.ratio
		isList := x.endpoint.script == "list_accounts.sql"
		if !isList || x.conns == 8 || x.conns == 64 {
			out = append(out, fmt.Sprintf("%s at %d: %.2f× (target ≥ %.1f×) %s", x.endpoint.name, x.conns, rt, x.endpoint.target, mark(rt >= x.endpoint.target)))
		}
		if isList && x.conns == 32 {
			out = append(out, fmt.Sprintf("%s at 32: p99 %s ms (target ≤ 10 ms) %s", x.endpoint.name, ms(x.svc.p99), mark(x.svc.p99 <= 10*time.Millisecond)))
		}
	}
	out = append(out, fmt.Sprintf("peak RSS %.1f MB (target < 100 MB) %s", r.hwmMB, mark(r.hwmMB < 100)))
	return out
}

func ratio(x result) string {
	if x.ratio <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", x.ratio)
}

func ms(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

func split3(c cpuSplit) string {
	if !c.ok {
		return "-"
	}
	return fmt.Sprintf("%.0f/%.0f/%.0f/%.0f", c.service, c.postgres, c.client, c.other)
}

func split2(c cpuSplit) string {
	if !c.ok {
		return "-"
	}
	return fmt.Sprintf("%.0f/%.0f/%.0f", c.postgres, c.client, c.other)
}
