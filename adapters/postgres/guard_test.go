package postgres_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Reliability test 21: the user context is transaction-local only. Session-level settings
// would survive into the next request that gets the same pooled connection.
func TestNoSessionLevelSettings(t *testing.T) {
	forbidden := regexp.MustCompile(`(?i)\bSET\s+SESSION\b|\bSET\s+app\.|set_config\([^)]*,\s*false\s*\)`)
	var files []string
	for _, pattern := range []string{"*.go", "../../migrations/*.sql"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, matches...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Nil(t, forbidden.FindIndex(body), "%s: session-level setting %q", f, forbidden.Find(body))
	}
}

// Design rule 2: transactions on the service's tables begin in one place, inRoleTx in tx.go,
// whose first statement switches the role. The Transactor (accounts_app) and the
// RotationStore (accounts_rotator) both go through it. migrate.go is the only other place a
// transaction begins: migrations run as the migrating role by design and touch no user's rows.
func TestOneChokepointBeginsTransactions(t *testing.T) {
	begins := regexp.MustCompile(`\bRunInTx\(|\bBeginTx\(|\bBegin\(|\.Conn\(|(?i)set_config\(\s*'role'|SET\s+(LOCAL\s+)?ROLE\b`)
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
		if m := begins.Find(body); m != nil {
			require.True(t, allowed[f], "%s: %q outside the chokepoint", f, m)
			found[f] = true
		}
	}
	require.True(t, found["tx.go"], "the scan finds the chokepoint itself")

	migrate, err := os.ReadFile("migrate.go")
	require.NoError(t, err)
	require.NotRegexp(t, `(?i)set_config\(\s*'role'`, string(migrate))

	rotation, err := os.ReadFile("rotation.go")
	require.NoError(t, err)
	require.Equal(t, strings.Count(string(rotation), "inRoleTx(ctx, s.db, rotatorRole,"), strings.Count(string(rotation), "inRoleTx("),
		"the rotation store only ever opens rotator transactions")
}
