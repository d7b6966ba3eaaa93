package httpadapter

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/routers"
)

// TestMain reports, after a run of the whole package, which (operation, status) pairs of
// the OpenAPI document its tests produced and validated, and fails the run when one the
// document lists was never seen and is not in notProducedHere (or one listed there was).
// A run of some tests only (-run, -skip, -fuzz) reports nothing.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && wholePackageRan() {
		report, ok := coverageReport()
		if !ok {
			code = 1
		}
		if !ok || testing.Verbose() {
			fmt.Print(report)
		}
	}
	os.Exit(code)
}

func wholePackageRan() bool {
	for _, name := range []string{"test.run", "test.skip", "test.fuzz"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// notProducedHere are the pairs of the document that no test of this package produces,
// each with the reason; the end-to-end tests of cmd/accounts produce some of them.
var notProducedHere = map[string]string{}

func coverageReport() (string, bool) {
	c, err := loadContract()
	if err != nil {
		return err.Error() + "\n", false
	}
	coverage.Lock()
	seen := make(map[string]int, len(coverage.seen))
	for k, v := range coverage.seen {
		seen[k] = v
	}
	coverage.Unlock()

	documented := c.documentedPairs()
	var b strings.Builder
	var unseen, stale []string
	hit := 0
	for _, pair := range documented {
		switch _, excused := notProducedHere[pair]; {
		case seen[pair] > 0 && excused:
			stale = append(stale, pair)
			hit++
		case seen[pair] > 0:
			hit++
		case !excused:
			unseen = append(unseen, pair)
		}
	}
	fmt.Fprintf(&b, "OpenAPI coverage: %d of the document's %d (operation, status) pairs were validated in this package's tests.\n", hit, len(documented))
	var others []string
	for k, n := range seen {
		if !slices.Contains(documented, k) {
			others = append(others, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	slices.Sort(others)
	fmt.Fprintf(&b, "Also validated (HEAD, and answers no operation has):\n  %s\n", strings.Join(others, "\n  "))
	excused := make([]string, 0, len(notProducedHere))
	for pair, why := range notProducedHere {
		if seen[pair] == 0 {
			excused = append(excused, pair+": "+why)
		}
	}
	slices.Sort(excused)
	if len(excused) > 0 {
		fmt.Fprintf(&b, "Not produced here (notProducedHere):\n  %s\n", strings.Join(excused, "\n  "))
	}
	if len(unseen) > 0 {
		fmt.Fprintf(&b, "FAIL: never produced by a test, and not in notProducedHere:\n  %s\n", strings.Join(unseen, "\n  "))
	}
	if len(stale) > 0 {
		fmt.Fprintf(&b, "FAIL: in notProducedHere, but a test produced them (remove them there):\n  %s\n", strings.Join(stale, "\n  "))
	}
	return b.String(), len(unseen) == 0 && len(stale) == 0
}

// coverage counts the (operation, status) pairs validated over the whole test run.
var coverage = struct {
	sync.Mutex
	seen map[string]int
}{seen: map[string]int{}}

// coverageKey is "METHOD /template STATUS"; HEAD is counted apart from GET, and answers no
// operation has under their pseudo-operation's name.
func coverageKey(method string, route *routers.Route, status int) string {
	if route.Method == "" {
		return route.Path + " " + strconv.Itoa(status)
	}
	return method + " " + route.Path + " " + strconv.Itoa(status)
}

func recordCoverage(method string, route *routers.Route, status int) {
	coverage.Lock()
	defer coverage.Unlock()
	coverage.seen[coverageKey(method, route, status)]++
}

// documentedPairs lists every (method, path, status) the document's operations answer with.
func (c *contractDoc) documentedPairs() []string {
	var out []string
	for _, p := range c.paths {
		for method, op := range p.item.Operations() {
			for status := range op.Responses.Map() {
				out = append(out, method+" "+p.template+" "+status)
			}
		}
	}
	slices.Sort(out)
	return out
}
