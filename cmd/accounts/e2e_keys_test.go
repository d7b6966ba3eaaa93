package main

// The key lifecycle through the binary: `credentials rotate` showing its progress and
// naming its run in every event, and `credentials keys` telling when a key is safe to
// delete.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

// storeCredentials stores n credentials for each of users (each gets an account), through
// the service, so they are sealed under its primary key; it returns their ids.
func storeCredentials(t *testing.T, svc *servicetest.Service, users []servicetest.Session, n int) []string {
	t.Helper()
	var ids []string
	for _, u := range users {
		res := request(t, svc, "POST", "/api/accounts/get-or-create", "", u.Browser()...)
		require.Equal(t, 200, res.status, res.raw)
		account := res.body["account"].(map[string]any)["id"].(string)
		for i := range n {
			res := request(t, svc, "POST", "/api/credentials/store",
				fmt.Sprintf(`{"account_id":%q,"credential_type":"alpaca","api_key":"AK%d","secret_key":"SK%d"}`, account, i, i), u.Browser()...)
			require.Equal(t, 201, res.status, res.raw)
			ids = append(ids, res.body["id"].(string))
		}
	}
	return ids
}

func newKeySpec(t *testing.T, id string) string {
	t.Helper()
	code, out, errOut := runCommand(t, nil, "credentials", "generate-key", "--id", id)
	require.Equal(t, 0, code, errOut)
	return strings.TrimSpace(out)
}

var (
	progressDraw = regexp.MustCompile(`^rotation (rotate-[0-9a-f]{16}): (\d+)/300 rows \((\d+)%\), (\d+) rows/s, (about \S+ left|time left unknown)$`)
	summaryLine  = regexp.MustCompile(`^rotation (rotate-[0-9a-f]{16}) finished: (\d+)/(\d+) rows in \S+, \d+ rows/s; (\d+) resealed, (\d+) skipped, (\d+) failed$`)
)

// A rotation of 300 credentials in small batches redraws its progress line in place (done
// of total, rate, time left) and ends with one summary line; every credential's trail has
// a "rotated" event naming the run. Off a terminal, the summary line is all it prints.
func TestRotateShowsItsProgressAndNamesItsRunInEveryEvent(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "CREDENTIALS_PER_ACCOUNT=100")
	ids := storeCredentials(t, svc, servicetest.Users(t, dbURL, "rotate-progress", 3), 100)
	require.Len(t, ids, 300)
	require.Equal(t, 0, svc.Stop(t))

	env := []string{"DATABASE_URL=" + dbURL, "CREDENTIAL_KEYS=" + newKeySpec(t, "e2e-2") + "," + servicetest.Keys}
	code, stdout, stderr := runCommand(t, env, "credentials", "rotate", "--progress=always", "--batch", "7")
	require.Equal(t, 0, code, stderr)
	require.Empty(t, stdout)

	draws, summary, ok := strings.Cut(strings.TrimPrefix(stderr, "\r\x1b[K"), "\n")
	require.True(t, ok, "the progress line ends before the summary:\n%q", stderr)
	var runID string
	last, timed := -1, false
	for _, draw := range strings.Split(draws, "\r\x1b[K") {
		m := progressDraw.FindStringSubmatch(draw)
		require.NotNil(t, m, "a progress draw: %q", draw)
		if runID == "" {
			runID = m[1]
		}
		require.Equal(t, runID, m[1], "every draw names the same run")
		done, _ := strconv.Atoi(m[2])
		require.GreaterOrEqual(t, done, last, "done only grows")
		last = done
		if rate, _ := strconv.Atoi(m[4]); rate > 0 && strings.HasPrefix(m[5], "about ") {
			timed = true
		}
	}
	require.Equal(t, 300, last, "the line ends at the final count")
	require.True(t, timed, "a draw shows a rate and the time left")

	m := summaryLine.FindStringSubmatch(strings.TrimSuffix(summary, "\n"))
	require.NotNil(t, m, "the summary: %q", summary)
	require.Equal(t, []string{runID, "300", "300", "300", "0", "0"}, m[1:])
	require.Equal(t, 1, strings.Count(summary, "\n"), "nothing after the summary:\n%s", summary)

	require.Equal(t, 300, servicetest.Count(t, dbURL, `SELECT count(DISTINCT credential_id) FROM credential_events
		WHERE action = 'rotated' AND outcome = 'ok' AND request_id = $1 AND credential_id = ANY($2::uuid[])`, runID, ids))
	require.Equal(t, 300, servicetest.Count(t, dbURL, `SELECT count(*) FROM credential_events WHERE request_id = $1`, runID),
		"one event per credential")

	// Off a terminal (stderr is a pipe here), --progress=auto draws nothing.
	env = []string{"DATABASE_URL=" + dbURL, "CREDENTIAL_KEYS=" + newKeySpec(t, "e2e-3") + "," + strings.TrimPrefix(env[1], "CREDENTIAL_KEYS=")}
	code, stdout, stderr = runCommand(t, env, "credentials", "rotate", "--batch", "50")
	require.Equal(t, 0, code, stderr)
	require.Empty(t, stdout)
	require.NotContains(t, stderr, "\r")
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	require.Len(t, lines, 1, "exactly one line:\n%s", stderr)
	m = summaryLine.FindStringSubmatch(lines[0])
	require.NotNil(t, m, lines[0])
	require.NotEqual(t, runID, m[1], "each run has its own id")
	require.Equal(t, []string{"300", "300", "300", "0", "0"}, m[2:])
}

// Retiring a key, as docs/database.md describes it: put a new key first, rotate, disable
// the old one, and `credentials keys` says when it seals nothing and may be deleted. A
// disabled key fails closed meanwhile: its values give 500 and an open_failed event.
func TestCredentialsKeysTellsWhenAKeyIsSafeToDelete(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL)
	alice := servicetest.SignIn(t, dbURL, "alice-keys")[0]
	ids := storeCredentials(t, svc, []servicetest.Session{alice}, 2)
	require.Equal(t, 0, svc.Stop(t))

	k2 := newKeySpec(t, "e2e-2")
	// requireKeys runs `credentials keys` with CREDENTIAL_KEYS=spec and wants exactly rows.
	requireKeys := func(spec string, rows ...string) {
		t.Helper()
		code, out, errOut := runCommand(t, []string{"DATABASE_URL=" + dbURL, "CREDENTIAL_KEYS=" + spec}, "credentials", "keys")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, strings.Join(rows, "\n")+"\n", out)
	}

	requireKeys(k2+","+servicetest.Keys,
		"KEY ID  STATE    SEALED  NOTE",
		"e2e-2   primary  0",
		"e2e-1   active   4") // two values per credential

	requireKeys(k2,
		"KEY ID  STATE    SEALED  NOTE",
		"e2e-2   primary  0",
		"e2e-1   missing  4       not in CREDENTIAL_KEYS: these values cannot be opened")

	disabled := k2 + "," + servicetest.Keys + ":disabled"
	requireKeys(disabled,
		"KEY ID  STATE     SEALED  NOTE",
		"e2e-2   primary   0",
		"e2e-1   disabled  4       not safe to delete yet: still seals values (enable it again and run credentials rotate)")

	svc = servicetest.Start(t, dbURL, "CREDENTIAL_KEYS="+disabled)
	res := request(t, svc, "POST", "/api/credentials/"+ids[0]+"/validate", "", alice.Browser()...)
	require.Equal(t, 500, res.status, res.raw)
	require.Equal(t, "internal", res.body["code"])
	require.Equal(t, 1, servicetest.Count(t, dbURL, `SELECT count(*) FROM credential_events
		WHERE credential_id = $1 AND action = 'open_failed' AND outcome = 'failed'`, ids[0]))
	require.Equal(t, 0, svc.Stop(t))

	code, _, errOut := runCommand(t, []string{"DATABASE_URL=" + dbURL, "CREDENTIAL_KEYS=" + k2 + "," + servicetest.Keys}, "credentials", "rotate")
	require.Equal(t, 0, code, errOut)
	requireKeys(disabled,
		"KEY ID  STATE     SEALED  NOTE",
		"e2e-2   primary   4",
		"e2e-1   disabled  0       safe to delete")
}

// Bad CREDENTIAL_KEYS is exit code 2, naming the variable and never the key; a database
// that cannot answer is exit code 1.
func TestCredentialsKeysExitCodes(t *testing.T) {
	t.Parallel()
	key := strings.TrimPrefix(servicetest.Keys, "e2e-1:")
	unreachable := "DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
	for name, tc := range map[string]struct{ spec, want string }{
		"primary disabled": {servicetest.Keys + ":disabled", `CREDENTIAL_KEYS: aesgcm: CREDENTIAL_KEYS key \"e2e-1\" (entry 1) is the primary`},
		"unknown state":    {newKeySpec(t, "e2e-2") + "," + servicetest.Keys + ":retired", `CREDENTIAL_KEYS: aesgcm: CREDENTIAL_KEYS key \"e2e-1\" (entry 2): unknown third field`},
		"unset":            {"", "CREDENTIAL_KEYS: aesgcm: CREDENTIAL_KEYS is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCommand(t, []string{unreachable, "CREDENTIAL_KEYS=" + tc.spec}, "credentials", "keys")
			require.Equal(t, 2, code, errOut)
			require.Empty(t, out)
			require.Contains(t, errOut, `"msg":"cannot list keys"`)
			require.Contains(t, errOut, tc.want)
			require.NotContains(t, errOut, key)
		})
	}
	code, out, errOut := runCommand(t, []string{unreachable, "CREDENTIAL_KEYS=" + servicetest.Keys}, "credentials", "keys")
	require.Equal(t, 1, code, errOut)
	require.Empty(t, out)
	require.Contains(t, errOut, "cannot list keys")
}
