package docsui

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bundle in dist/ is the version package.json pins and package-lock.json locks: one
// that is bumped without `go tool task docs:ui` (or copied by hand from another version)
// fails here.
func TestBundleIsThePinnedVersion(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, "package.json", &pkg)
	pinned := pkg.Dependencies["swagger-ui-dist"]
	require.Regexp(t, `^\d+\.\d+\.\d+$`, pinned, "package.json pins an exact version")

	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	readJSON(t, "package-lock.json", &lock)
	require.Equal(t, pinned, lock.Packages["node_modules/swagger-ui-dist"].Version, "package-lock.json")

	m := regexp.MustCompile(`PACKAGE_VERSION:"([^"]+)"`).FindSubmatch(bundle)
	require.NotNil(t, m, "the bundle names its version")
	require.Equal(t, pinned, string(m[1]), "dist/swagger-ui-bundle.js")
}

// dist/ is byte for byte what the pinned package ships (`go tool task deps` installs it).
func TestDistIsThePackagesFiles(t *testing.T) {
	installed := filepath.Join("node_modules", "swagger-ui-dist")
	if _, err := os.Stat(installed); err != nil {
		t.Fatalf("swagger-ui-dist is not installed: run `go tool task deps` (npm ci in adapters/http/docsui)")
	}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "LICENSE", "NOTICE"} {
		want, err := os.ReadFile(filepath.Join(installed, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("dist", name))
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "dist/%s differs from the package's: run go tool task docs:ui", name)
	}
}

// The page loads its scripts and styles from /docs/assets/ only, every one of which is an
// asset, and has no inline script or style (its Content-Security-Policy forbids them).
func TestPageLoadsOnlyItsOwnAssets(t *testing.T) {
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllSubmatch(page, -1)
	require.NotEmpty(t, refs)
	assets := Assets()
	for _, ref := range refs {
		switch u := string(ref[1]); {
		case u == "data:," || u == "/openapi.json": // the empty favicon; the noscript link
		default:
			name, ok := bytes.CutPrefix(ref[1], []byte("/docs/assets/"))
			require.True(t, ok, "%s is not one of the page's assets", u)
			require.Contains(t, assets, string(name))
		}
	}
	require.NotRegexp(t, `<script>|<style|style=`, string(page))
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), name)
}
