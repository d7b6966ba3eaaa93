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

// The vector of shared/spec/better-auth.md (a real Better Auth cookie).
func TestSignWithMatchesBetterAuth(t *testing.T) {
	got := signWith("test-only-secret-not-for-production-0123456789abcdef", "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh")
	require.Equal(t, "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh./xXogZdy6DBnDBXTmckAxf72lTd4DyFBwLzTdXfGHSI=", got)
}

func TestSeedStringsMatchTheScripts(t *testing.T) {
	require.Equal(t, "tok00000000000000000000000000042", token(42))
	require.Equal(t, "usr00000000000000000000001000000", userID(1000000))
	require.Len(t, token(1), 32, "Better Auth tokens are 32 characters")
	require.Len(t, benchCredentialKey, 32, "CREDENTIAL_KEYS takes 32-byte keys")
	for _, script := range []string{"list_accounts.sql", "get_or_create.sql"} {
		b, err := os.ReadFile(filepath.Join("pgbench", script))
		require.NoError(t, err)
		require.Contains(t, string(b), "lpad(:uid::text, 29, '0')", script)
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 2s test @ http://127.0.0.1:1/api/accounts\n" +
		"WRK_RESULT requests=5000 duration_us=2000000 p50_us=1500 p99_us=9000 status_errors=3 connect_errors=0 read_errors=0 write_errors=0 timeouts=1\n"
	r, err := parseWrk(out)
	require.NoError(t, err)
	require.EqualValues(t, 5000, r.requests)
	require.InDelta(t, 2500, r.perSecond, 0.001)
	require.Equal(t, 1500*time.Microsecond, r.p50)
	require.Equal(t, 9*time.Millisecond, r.p99)
	require.EqualValues(t, 4, r.failures())
	require.Equal(t, "status errors 3, timeouts 1", r.errorSummary)

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
}

func TestTokenLinesHaveOneWidth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.txt")
	require.NoError(t, writeTokens(path, 1234))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 1234)
	for _, l := range lines {
		require.Len(t, l, 77) // the wrk script seeks by line width
	}
	require.Len(t, b, 1234*78)
}

func TestCombineTakesMedians(t *testing.T) {
	round := func(svc, pg float64, p99 time.Duration, rss float64) result {
		return result{
			svc:   loadResult{perSecond: svc, p99: p99, requests: 10},
			pg:    loadResult{perSecond: pg, requests: 20},
			rssMB: rss,
		}
	}
	got := combine([]result{
		round(100, 200, 5*time.Millisecond, 50), // ratio 0.5
		round(300, 200, 9*time.Millisecond, 70), // ratio 1.5
		round(150, 100, 1*time.Millisecond, 60), // ratio 1.5
	})
	require.InDelta(t, 150, got.svc.perSecond, 1e-9)
	require.InDelta(t, 200, got.pg.perSecond, 1e-9)
	require.InDelta(t, 1.5, got.ratio, 1e-9, "the median of the rounds' ratios, not the ratio of medians")
	require.Equal(t, 5*time.Millisecond, got.svc.p99)
	require.EqualValues(t, 30, got.svc.requests)
	require.InDelta(t, 70, got.rssMB, 1e-9)
	require.Equal(t, 3, got.rounds)

	one := combine([]result{round(100, 400, 0, 1)})
	require.InDelta(t, 0.25, one.ratio, 1e-9)
}
