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
	usersSent             int64  // how far the wrk steps went through the users' sequences
}

// printReport writes the run as markdown: a header of what ran where, the table, and the
// targets that this run can check.
func printReport(w io.Writer, r report) {
	m := r.machine
	fmt.Fprintf(w, "\n### accounts bench: %d users, %s steps\n\n", r.opts.users, r.opts.duration)
	if r.opts.rounds > 1 {
		fmt.Fprintf(w, "- every row: the median of %d rounds (a wrk step then a pgbench step, back to back); ratio: the median of the rounds' ratios; peak RSS: the highest\n", r.opts.rounds)
	}
	fmt.Fprintf(w, "- machine: %d CPUs (%s), %s RAM; %s; %s\n", m.cpus, m.model, m.memory, m.postgres, m.goVer)
	fmt.Fprintf(w, "- load average before / after the run: %s / %s (the bench's own load included after)\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(w, "- seeding %d users (user, session, account; vacuum analyze; checkpoint): %s\n", r.opts.users, r.seedTime.Round(100*time.Millisecond))
	fmt.Fprintf(w, "- service: built from %s; its defaults but %s\n", r.built, serviceSettings(r.opts))
	passes := float64(r.usersSent) / float64(r.opts.users)
	repeats := "no request repeated a user"
	if passes > 1 {
		repeats = "users repeat after every pass"
	}
	fmt.Fprintf(w, "- wrk: -t %d --latency, a bearer per request; thread k of t sends the users k, k+t, k+2t, ..., each step going on where the last stopped: the run went %.2f times through the %d users (%s)\n",
		threads, passes, r.opts.users, repeats)
	fmt.Fprintf(w, "- pgbench: -M prepared -j %d --random-seed=rand as %s (non-owner, member of accounts_app), a random user per transaction; naive: a round trip per statement; pipeline: one round trip (\\startpipeline)\n", threads, benchRole)
	fmt.Fprintf(w, "- service peak RSS (VmHWM, whole run): %.1f MB; VmRSS at the end: %.1f MB\n", r.hwmMB, r.rssMB)
	fmt.Fprintf(w, "- ×naive, ×pipeline: service req/s ÷ that pgbench script's tps; µs columns: CPU time per request (pgbench: per transaction) of the service process and of the bench database's PostgreSQL backends\n")
	fmt.Fprintf(w, "- CPU %% columns: %% of one core during the step: the service / the PostgreSQL backends / the load generator / everything else on the machine (%d CPUs = %d%%; a large last number means the step is distorted)\n\n", m.cpus, 100*m.cpus)

	fmt.Fprintln(w, "| endpoint | conns | service req/s | p50/p99 ms | naive tps | naive p50/p99 ms | pipeline tps | pipeline p50/p99 ms | ×naive | ×pipeline | svc µs/req | pg µs/req | naive pg µs/tx | pipeline pg µs/tx | peak RSS MB | CPU % svc/pg/wrk/other | CPU % naive pg/pgbench/other | CPU % pipeline pg/pgbench/other |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range r.results {
		hasPipe := x.endpoint.pipeline != ""
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s |\n",
			x.endpoint.name, x.conns, x.svc.load.perSecond, latency(x.svc),
			rate(x.naive, true), latency(x.naive), rate(x.pipeline, hasPipe), latency(x.pipeline),
			times(x.toNaive), times(x.toPipeline),
			us(x.svc.cpu.serviceUS, x.svc.cpu.ok), us(x.svc.cpu.postgresUS, x.svc.cpu.ok),
			us(x.naive.cpu.postgresUS, x.naive.cpu.ok), us(x.pipeline.cpu.postgresUS, x.pipeline.cpu.ok),
			x.rssMB, split3(x.svc.cpu), split2(x.naive.cpu), split2(x.pipeline.cpu))
	}

	fmt.Fprintf(w, "\nTargets: GET ≥ 1.0× naive pgbench at 8 and 64 (goal 1.2×); GET p99 ≤ 10 ms at 8 and 32; get-or-create ≥ 1.0× (goal 1.2×); peak RSS < 100 MB.\n")
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
		if x.toNaive <= 0 {
			continue
		}
		rt := x.toNaive
		isList := x.endpoint.script == "list_accounts.sql"
		if !isList || x.conns == 8 || x.conns == 64 {
			out = append(out, fmt.Sprintf("%s at %d: %.2f× (target ≥ %.1f×) %s", x.endpoint.name, x.conns, rt, x.endpoint.target, mark(rt >= x.endpoint.target)))
		}
		if isList && (x.conns == 8 || x.conns == 32) {
			out = append(out, fmt.Sprintf("%s at %d: p99 %s ms (target ≤ 10 ms) %s", x.endpoint.name, x.conns, ms(x.svc.load.p99), mark(x.svc.load.p99 <= 10*time.Millisecond)))
		}
	}
	out = append(out, fmt.Sprintf("peak RSS %.1f MB (target < 100 MB) %s", r.hwmMB, mark(r.hwmMB < 100)))
	return out
}

func times(ratio float64) string {
	if ratio <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", ratio)
}

func rate(s side, ran bool) string {
	if !ran || s.load.perSecond <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", s.load.perSecond)
}

func latency(s side) string {
	if s.load.p50 <= 0 {
		return "-"
	}
	return ms(s.load.p50) + "/" + ms(s.load.p99)
}

func us(v float64, ok bool) string {
	if !ok || v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
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
