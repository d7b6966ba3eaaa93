// Command bench measures the accounts service against PostgreSQL itself: it seeds a fresh
// database with N Better Auth users (each with a live session and an account), runs the
// real binary, loads it with wrk from a second process and runs pgbench with the
// equivalent naive SQL (bench/pgbench) against the same data, then prints one markdown
// table. `go tool task bench` runs it (`go run ./bench`); docs/benchmarks.md explains the
// numbers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	maxStep         = 15 * time.Second // the bound on one load step
	threads         = 2                // wrk's -t and pgbench's -j
	defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

type options struct {
	users      int
	duration   time.Duration
	conns      []int
	warmup     time.Duration // wrk against each endpoint before its measured steps
	rounds     int
	serviceEnv []string // extra KEY=VALUE settings of the service, e.g. DB_MAX_CONNS=16
	rev        string
	endpoints  []endpoint
	keep       bool
	smoke      bool
	adminURL   string // $BENCH_DATABASE_URL, else $DATABASE_URL, else defaultAdminURL
}

// endpoint pairs an HTTP route with the pgbench scripts that do its SQL: the naive way
// (a round trip per statement) and, where there is one, the ideal one-round-trip pipeline.
type endpoint struct {
	name     string // as printed
	method   string
	path     string
	script   string // under bench/pgbench
	pipeline string // under bench/pgbench; "" when there is none
	target   float64
}

var endpoints = []endpoint{
	{name: "GET /api/accounts", method: "GET", path: "/api/accounts", script: "list_accounts.sql", pipeline: "list_accounts_pipeline.sql", target: 1.0},
	{name: "POST /api/accounts/get-or-create", method: "POST", path: "/api/accounts/get-or-create", script: "get_or_create.sql", target: 1.0},
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	if err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.users, "users", 10000, "seeded users, each with a user, a live session and an account (bench:million: 1000000)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each load step (wrk or pgbench), at most 15s")
	conns := fs.String("conns", "8,32,64", "comma-separated client connections: each is one wrk step and one step per pgbench script of each endpoint")
	fs.IntVar(&o.rounds, "rounds", 1, "repeat every wrk+pgbench pair this often and report medians (a shared machine's noise)")
	fs.Func("service-env", "an extra KEY=VALUE setting of the service (repeatable), e.g. DB_MAX_CONNS=16", func(kv string) error {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return errors.New("want KEY=VALUE")
		}
		o.serviceEnv = append(o.serviceEnv, kv)
		return nil
	})
	fs.StringVar(&o.rev, "rev", "", "build the service from this git revision (git archive) instead of the working tree, e.g. HEAD")
	only := fs.String("endpoints", "", "comma-separated subset of endpoints to run: list, get-or-create (default both)")
	fs.BoolVar(&o.keep, "keep", false, "keep the database (and print its name) instead of dropping it")
	fs.BoolVar(&o.smoke, "smoke", false, "a few seconds: 200 users, 2s steps, 8 connections, 1s warm-up")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.warmup = 5 * time.Second
	if o.smoke {
		o.warmup = time.Second
		if !set["users"] {
			o.users = 200
		}
		if !set["duration"] {
			o.duration = 2 * time.Second
		}
		if !set["conns"] {
			*conns = "8"
		}
	}
	var err error
	if o.conns, err = parseConns(*conns); err != nil {
		return o, err
	}
	switch {
	case o.users < threads:
		return o, fmt.Errorf("-users must be at least %d (a user per wrk thread)", threads)
	case o.duration < time.Second || o.duration > maxStep:
		return o, fmt.Errorf("-duration must be between 1s and %s", maxStep)
	case o.rounds < 1 || o.rounds > 9:
		return o, errors.New("-rounds must be between 1 and 9")
	}
	o.endpoints = endpoints
	if *only != "" {
		var keep []endpoint
		for _, name := range strings.Split(*only, ",") {
			switch strings.TrimSpace(name) {
			case "list":
				keep = append(keep, endpoints[0])
			case "get-or-create":
				keep = append(keep, endpoints[1])
			default:
				return o, fmt.Errorf("-endpoints: unknown endpoint %q (list, get-or-create)", name)
			}
		}
		o.endpoints = keep
	}
	o.adminURL = firstNonEmpty(os.Getenv("BENCH_DATABASE_URL"), os.Getenv("DATABASE_URL"), defaultAdminURL)
	if _, err := url.Parse(o.adminURL); err != nil {
		return o, errors.New("$BENCH_DATABASE_URL or $DATABASE_URL is not a URL")
	}
	return o, nil
}

// timeout bounds the whole run: the build, the seed and every step with its own slack.
func (o options) timeout() time.Duration {
	steps := 0
	for _, ep := range o.endpoints {
		steps += 1 + o.rounds*len(o.conns)*ep.steps()
	}
	return 15*time.Minute + time.Duration(steps)*(o.duration+time.Minute)
}

// steps is how many load steps one round of the endpoint takes: wrk, then each pgbench script.
func (ep endpoint) steps() int {
	if ep.pipeline != "" {
		return 3
	}
	return 2
}

func parseConns(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("-conns: %q is not a connection count", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// repoRoot finds the module root (bench/ and cmd/accounts live there) from the working
// directory upwards, so the driver runs from any directory inside the repository.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/brokerly/accounts\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run bench inside the accounts repository (no go.mod of github.com/brokerly/accounts above the working directory)")
		}
		dir = parent
	}
}
