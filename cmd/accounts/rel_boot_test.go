package main

// Reliability test 16 against the real binary: the service refuses to run on a database
// whose row-level security it cannot rely on, before it listens, or (when the database was
// not ready at start) as soon as the audit can run.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerly/accounts/internal/servicetest"
	"github.com/stretchr/testify/require"
)

// sabotages break a migrated database the way an operator could, each one per database
// (roles are cluster-wide and shared with other tests, so they are never altered).
var sabotages = map[string]struct{ sql, problem string }{
	"RLS not forced":         {`ALTER TABLE user_accounts NO FORCE ROW LEVEL SECURITY`, "table user_accounts does not force RLS"},
	"RLS disabled":           {`ALTER TABLE user_credentials DISABLE ROW LEVEL SECURITY`, "table user_credentials has RLS disabled"},
	"table owned by the app": {`ALTER TABLE user_credentials OWNER TO accounts_app`, "role accounts_app owns relation user_credentials"},
	"new table without RLS":  {`CREATE TABLE broker_orders (id uuid PRIMARY KEY, user_id text NOT NULL)`, "table broker_orders has RLS disabled"},
	"policy for PUBLIC":      {`CREATE POLICY everyone ON user_accounts FOR SELECT USING (true)`, "policy everyone applies to PUBLIC"},
	"policy that leaks rows": {`CREATE POLICY leak ON user_accounts FOR SELECT TO accounts_app USING (true);
		INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('u1', 'u1', 'u1@example.test', false);
		INSERT INTO user_accounts (id, user_id, account_name, created_at, updated_at) VALUES (gen_random_uuid(), 'u1', 'a', now(), now())`,
		"accounts_app sees rows of public.user_accounts without a user context"},
}

func TestRel16_ServiceRefusesToBootWhenRLSIsWeak(t *testing.T) {
	t.Parallel()
	for name, s := range sabotages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dbURL := servicetest.NewDatabaseURL(t)
			runBinary(t, dbURL, "", 0, "migrate")
			servicetest.Exec(t, dbURL, s.sql)

			for _, args := range [][]string{{"serve"}, {"serve", "--migrate"}} {
				code, out := serveOnce(t, dbURL, args...)
				require.Equal(t, 1, code, "%v:\n%s", args, out)
				require.Contains(t, out, "row-level security audit failed")
				require.Contains(t, out, s.problem)
				require.Contains(t, out, "refusing to start")
				require.NotContains(t, out, `"msg":"listening"`, "it never listened")
			}
		})
	}
}

// The service starts on a database that is not ready (here: not migrated yet, as after a
// restore; test 33 covers one that is down), answers 503 until the audit has passed, and
// exits non-zero as soon as the audit can run and fails.
func TestRel16_DeferredAuditStopsTheService(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	servicetest.CreateDatabase(t, dbURL)
	svc := servicetest.Launch(t, []string{"serve"}, dbURL)
	require.Equal(t, 200, request(t, svc, "GET", "/livez", "").status)
	res := request(t, svc, "GET", "/readyz", "")
	require.Equal(t, 503, res.status, res.raw)
	require.Equal(t, "1", res.header.Get("Retry-After"))

	runBinary(t, dbURL, "", 0, "migrate")
	servicetest.Exec(t, dbURL, sabotages["RLS not forced"].sql)
	alice := cookieFor(t, dbURL, "alice-16")

	deadline := time.After(15 * time.Second)
	for {
		// Probes and API calls, as a load balancer and clients would send them; the first
		// one after the migration runs the audit.
		if r, err := http.Get(svc.URL + "/readyz"); err == nil {
			_ = r.Body.Close()
			require.Equal(t, 503, r.StatusCode, "never ready on a weak database")
		}
		if req, err := http.NewRequest("GET", svc.URL+"/api/accounts", nil); err == nil {
			req.Header.Set("Cookie", alice)
			if r, err := http.DefaultClient.Do(req); err == nil {
				_ = r.Body.Close()
				require.Equal(t, 503, r.StatusCode, "no API traffic on a weak database")
			}
		}
		select {
		case <-svc.Done:
			require.Equal(t, 1, svc.Cmd.ProcessState.ExitCode())
			logs := svc.Logs.String()
			require.Contains(t, logs, "row-level security audit failed")
			require.Contains(t, logs, "table user_accounts does not force RLS")
			return
		case <-deadline:
			t.Fatal("the service kept running on a weak database")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// The good case of the above: once the database is migrated, the first probe or request
// runs the audit, and the service serves without a restart.
func TestRel16_DeferredAuditPassesAndTheServiceRecovers(t *testing.T) {
	t.Parallel()
	dbURL := servicetest.NewDatabaseURL(t)
	servicetest.CreateDatabase(t, dbURL)
	svc := servicetest.Launch(t, []string{"serve"}, dbURL)
	require.Equal(t, 503, request(t, svc, "GET", "/readyz", "").status)

	runBinary(t, dbURL, "", 0, "migrate")
	alice := cookieFor(t, dbURL, "alice-16-ok")
	require.Eventually(t, func() bool {
		return request(t, svc, "GET", "/api/accounts", "", "Cookie", alice).status == 200
	}, 10*time.Second, 100*time.Millisecond, "the API serves once the audit has passed")
	require.Equal(t, 200, request(t, svc, "GET", "/readyz", "").status)
	require.True(t, strings.Contains(svc.Logs.String(), "row-level security audit passed"))
	require.Equal(t, 0, svc.Stop(t))
}
