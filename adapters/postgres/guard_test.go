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
