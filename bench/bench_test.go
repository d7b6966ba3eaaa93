package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSeedStringsMatchTheScripts(t *testing.T) {
	require.Equal(t, "tok00000000000000000000000000042", token(42))
	require.Equal(t, "usr00000000000000000000001000000", userID(1000000))
	require.Len(t, token(1), 32, "Better Auth tokens are 32 characters")
	require.Len(t, benchCredentialKey, 32, "CREDENTIAL_KEYS takes 32-byte keys")
	for _, script := range []string{"list_accounts.sql", "get_or_create.sql", "list_accounts_pipeline.sql"} {
		b, err := os.ReadFile(filepath.Join("pgbench", script))
		require.NoError(t, err)
		require.Contains(t, string(b), "lpad(:uid::text, 29, '0')", script)
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 2s test @ http://127.0.0.1:1/api/accounts\n" +
		"WRK_RESULT requests=5000 duration_us=2000000 p50_us=1500 p99_us=9000 status_errors=3 connect_errors=0 read_errors=0 write_errors=0 timeouts=1 next=2600\n"
	r, err := parseWrk(out)
	require.NoError(t, err)
	require.EqualValues(t, 5000, r.requests)
	require.InDelta(t, 2500, r.perSecond, 0.001)
	require.Equal(t, 1500*time.Microsecond, r.p50)
	require.Equal(t, 9*time.Millisecond, r.p99)
	require.EqualValues(t, 4, r.failures())
	require.Equal(t, "status errors 3, timeouts 1", r.errorSummary)
	require.EqualValues(t, 2600, r.next)

	_, err = parseWrk("Requests/sec: 100\n")
	require.Error(t, err)
}

func TestParsePgbench(t *testing.T) {
	out := `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: bench/pgbench/list_accounts.sql
number of transactions actually processed: 60251
number of failed transactions: 0 (0.000%)
latency average = 1.328 ms
initial connection time = 9.853 ms
tps = 6025.426626 (without initial connection time)
`
	r, err := parsePgbench(out)
	require.NoError(t, err)
	require.InDelta(t, 6025.426626, r.perSecond, 1e-6)
	require.EqualValues(t, 60251, r.requests)
	require.Zero(t, r.failures())

	_, err = parsePgbench("pgbench: error: connection failed\n")
	require.Error(t, err)
}

func TestPgbenchPercentiles(t *testing.T) {
	dir := t.TempDir()
	var a, b strings.Builder
	for i := 1; i <= 100; i++ {
		line := fmt.Sprintf("0 1 %d 0 1700000000 1\n", i*100)
		if i%2 == 0 {
			a.WriteString(line)
		} else {
			b.WriteString(line)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tx.1"), []byte(a.String()), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tx.1.1"), []byte(b.String()), 0o644))
	p50, p99, err := pgbenchPercentiles([]string{filepath.Join(dir, "tx.1"), filepath.Join(dir, "tx.1.1")})
	require.NoError(t, err)
	require.Equal(t, 5*time.Millisecond, p50)
	require.Equal(t, 9900*time.Microsecond, p99)
}

func TestParseProcStat(t *testing.T) {
	line := "1234 (post gres) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 100 0 0"
	st, ok := parseProcStat(line)
	require.True(t, ok)
	require.Equal(t, "post gres", st.comm)
	require.Equal(t, 77, st.ppid)
	require.Equal(t, 3*time.Second, st.self)
	require.Equal(t, 100*time.Millisecond, st.children)
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-smoke"}, os.Stderr)
	require.NoError(t, err)
	require.Equal(t, 200, o.users)
	require.Equal(t, 2*time.Second, o.duration)
	require.Equal(t, []int{8}, o.conns)

	o, err = parseFlags([]string{"-smoke", "-users", "1000", "-conns", "8,64"}, os.Stderr)
	require.NoError(t, err)
	require.Equal(t, 1000, o.users)
	require.Equal(t, []int{8, 64}, o.conns)

	_, err = parseFlags([]string{"-duration", "20s"}, os.Stderr)
	require.Error(t, err, "steps are bounded to 15 s")
	_, err = parseFlags([]string{"-conns", "8,x"}, os.Stderr)
	require.Error(t, err)
	_, err = parseFlags([]string{"-users", "1"}, os.Stderr)
	require.Error(t, err, "a user per wrk thread at least")
	_, err = parseFlags([]string{"-service-env", "DB_MAX_CONNS"}, os.Stderr)
	require.Error(t, err)

	o, err = parseFlags([]string{"-endpoints", "list", "-service-env", "DB_MAX_CONNS=16"}, os.Stderr)
	require.NoError(t, err)
	require.Equal(t, []endpoint{endpoints[0]}, o.endpoints)
	require.Equal(t, "LOG_LEVEL=warn, DB_MAX_CONNS=16", serviceSettings(o))
	require.Equal(t, 5*time.Second, o.warmup)
	require.Equal(t, 1, o.rounds)
}

func TestTokenFilesGiveEachThreadItsOwnUsers(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, writeTokens(prefix, 1235, 2))
	seen := map[string]bool{}
	for k, want := range map[int]int{1: 618, 2: 617} {
		b, err := os.ReadFile(fmt.Sprintf("%s.%d", prefix, k))
		require.NoError(t, err)
		require.Len(t, b, want*tokenWidth, "the wrk script cuts records at fixed offsets")
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		require.Len(t, lines, want)
		for i, l := range lines {
			require.Len(t, l, tokenWidth-1)
			require.Equal(t, signedToken(token(k+2*i)), l, "thread %d's line %d is user k+t*i", k, i)
			require.False(t, seen[l], "the threads' users are disjoint")
			seen[l] = true
		}
	}
	require.Len(t, seen, 1235)
}

func TestPipelineScriptStatements(t *testing.T) {
	stmts, err := scriptStatements(filepath.Join("pgbench", "list_accounts_pipeline.sql"), 42)
	require.NoError(t, err)
	require.Len(t, stmts, 2, "the context statement and the query, in one pipeline")
	require.Contains(t, stmts[0], "lpad(42::text, 29, '0')")
	require.Contains(t, stmts[0], "set_config('role', 'accounts_app', true)")
	require.NotContains(t, stmts[0]+stmts[1], ":uid")
	b, err := os.ReadFile(filepath.Join("pgbench", "list_accounts_pipeline.sql"))
	require.NoError(t, err)
	require.Contains(t, string(b), "\\startpipeline")
	require.Contains(t, string(b), "\\endpipeline")
}

func TestCombineTakesMedians(t *testing.T) {
	round := func(svc, naive, pipe float64, p99 time.Duration, rss, svcUS float64) result {
		return result{
			svc:      side{load: loadResult{perSecond: svc, p99: p99, requests: 10}, cpu: cpuSplit{serviceUS: svcUS, ok: true}},
			naive:    side{load: loadResult{perSecond: naive, requests: 20}, cpu: cpuSplit{ok: true}},
			pipeline: side{load: loadResult{perSecond: pipe, requests: 30}, cpu: cpuSplit{ok: true}},
			rssMB:    rss,
		}
	}
	got := combine([]result{
		round(100, 200, 400, 5*time.Millisecond, 50, 90), // ratios 0.5, 0.25
		round(300, 200, 300, 9*time.Millisecond, 70, 70), // ratios 1.5, 1
		round(150, 100, 300, 1*time.Millisecond, 60, 80), // ratios 1.5, 0.5
	})
	require.InDelta(t, 150, got.svc.load.perSecond, 1e-9)
	require.InDelta(t, 200, got.naive.load.perSecond, 1e-9)
	require.InDelta(t, 300, got.pipeline.load.perSecond, 1e-9)
	require.InDelta(t, 1.5, got.toNaive, 1e-9, "the median of the rounds' ratios, not the ratio of medians")
	require.InDelta(t, 0.5, got.toPipeline, 1e-9)
	require.Equal(t, 5*time.Millisecond, got.svc.load.p99)
	require.EqualValues(t, 30, got.svc.load.requests)
	require.EqualValues(t, 90, got.pipeline.load.requests)
	require.InDelta(t, 80, got.svc.cpu.serviceUS, 1e-9)
	require.InDelta(t, 70, got.rssMB, 1e-9)
	require.Equal(t, 3, got.rounds)

	one := combine([]result{round(100, 400, 0, 0, 1, 0)})
	require.InDelta(t, 0.25, one.toNaive, 1e-9)
	require.Zero(t, one.toPipeline, "no pipeline step, no ratio")
}
