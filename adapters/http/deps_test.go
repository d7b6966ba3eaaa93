package httpadapter

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// minFiber is the oldest Fiber v2 release with every advisory of docs/reliability.md fixed
// (CVE-2025-66630, the all-zero UUID fallback, in 2.52.11; the BodyParser panics
// CVE-2025-48075 / GO-2025-3845 in 2.52.9). Raise it with each new patch release.
const minFiber = "v2.52.11"

// Reliability test 30 asks for govulncheck, which needs the vulnerability database at
// vuln.go.dev and cannot reach it from these machines. Instead this pins the Fiber release
// the module requires (go.mod decides what every binary of the module links, the service
// included): at least minFiber, the patch release that fixes the last known advisory.
func TestRel30_FiberIsPatched(t *testing.T) {
	t.Parallel()
	goMod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/gofiber/fiber/v2\s+(v\S+)`).FindSubmatch(goMod)
	require.NotNil(t, m, "go.mod does not require Fiber v2")
	require.NotRegexp(t, `(?m)^\s*(?:replace\s+)?github\.com/gofiber/fiber/v2\b.*=>`, string(goMod), "Fiber is not replaced")
	version := string(m[1])
	require.GreaterOrEqual(t, compareSemver(version, minFiber), 0, "Fiber %s is older than %s: upgrade it", version, minFiber)
	t.Logf("Fiber %s (at least %s)", version, minFiber)
}

// compareSemver compares vMAJOR.MINOR.PATCH versions (pre-release suffixes sort before the
// release, which is enough for this check).
func compareSemver(a, b string) int {
	pa, pb := semverParts(a), semverParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func semverParts(v string) [4]int {
	v = strings.TrimPrefix(v, "v")
	core, pre, _ := strings.Cut(v, "-")
	var out [4]int
	for i, p := range strings.SplitN(core, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	if pre == "" {
		out[3] = 1 // a release sorts after its pre-releases
	}
	return out
}

func TestCompareSemver(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, compareSemver("v2.52.11", "v2.52.11"))
	require.Equal(t, 1, compareSemver("v2.52.15", "v2.52.11"))
	require.Equal(t, -1, compareSemver("v2.52.9", "v2.52.11"))
	require.Equal(t, -1, compareSemver("v2.52.11-rc.1", "v2.52.11"))
	require.Equal(t, 1, compareSemver("v2.53.0", "v2.52.11"))
}
