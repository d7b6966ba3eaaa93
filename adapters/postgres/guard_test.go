package postgres_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Test 21 of docs/reliability.md (the "CI grep"): the user context is transaction-local only.
// Session-level settings would survive into the next request that gets the same pooled
// connection (and leak across clients behind PgBouncer in transaction mode), and SET LOCAL
// outside a transaction only warns (25P01). Every non-test Go, SQL and Lua file of the
// repository is scanned, the benchmark's scripts included.
func TestRel21_NoSessionLevelSettings(t *testing.T) {
	forbidden := regexp.MustCompile(`(?i)\bSET\s+SESSION\b|\bSET\s+app\.|set_config\([^)]*,\s*false\s*\)`)
	root := filepath.Join("..", "..")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		switch ext := filepath.Ext(path); {
		case d.IsDir(), strings.HasSuffix(path, "_test.go"):
		case ext == ".go", ext == ".sql", ext == ".lua":
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, files, filepath.Join(root, "adapters", "postgres", "tx.go"), "the scan reaches the chokepoint")
	require.Contains(t, files, filepath.Join(root, "migrations", "005_user_credentials.sql"), "and the migrations")
	for _, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Nil(t, forbidden.FindIndex(body), "%s: session-level setting %q", f, forbidden.Find(body))
	}

	// The control: the pattern finds each forbidden form.
	for _, bad := range []string{"SET app.current_user_id = 'x'", "set session role accounts_app", "SELECT set_config('app.current_user_id', $1, false)"} {
		require.Regexp(t, forbidden, bad)
	}
	require.NotRegexp(t, forbidden, "SELECT set_config('app.current_user_id', $1, true)")
}

// Design rule 2: statements on the service's tables go through one place, the transaction
// helper in tx.go, whose first statement switches the role (and resolves the session).
// Nothing else in the adapter borrows a connection, sends SQL over pgx or database/sql, or
// switches a role; migrate.go is the only other place a transaction begins: migrations
// run as the migrating role by design (through Bun) and touch no user's rows.
func TestRel21_OneChokepointBeginsTransactions(t *testing.T) {
	reaches := regexp.MustCompile(`\bRunInTx\(|\bBeginTx\(|\bBegin\(|\.Conn\(|\.Acquire\(|SendBatch\(|"BEGIN"|` +
		`\b(Query|QueryRow|Exec)Context\(|(?i)set_config\(\s*'role'|SET\s+(LOCAL\s+)?ROLE\b`)
	allowed := map[string]bool{"tx.go": true, "migrate.go": true}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	found := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		if m := reaches.Find(body); m != nil {
			require.True(t, allowed[f], "%s: %q outside the chokepoint", f, m)
			found[f] = true
		}
	}
	require.True(t, found["tx.go"], "the scan finds the chokepoint itself")

	migrate, err := os.ReadFile("migrate.go")
	require.NoError(t, err)
	require.NotRegexp(t, `(?i)set_config\(\s*'role'`, string(migrate))

	// Each store opens only the scope it exists for.
	for file, scope := range map[string]string{"accounts.go": "asUser(s)", "credentials.go": "asUser(s)", "sessions.go": "asUser(s)", "rotation.go": "asRotator"} {
		body, err := os.ReadFile(file)
		require.NoError(t, err)
		require.Positive(t, strings.Count(string(body), "transact(ctx, "+scope), file)
		require.Equal(t, strings.Count(string(body), "transact(ctx, "+scope), strings.Count(string(body), "transact("),
			"%s only ever opens %s transactions", file, scope)
	}
}
