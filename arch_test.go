// The dependency rule of the hexagonal design, checked on every test run: domain ← app ←
// adapters ← cmd. An import that points outward fails here before it can spread.
package arch_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/brokerly/accounts"

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages; is the test running at the module root?", len(pkgs))
	}
	return pkgs
}

func isStd(imp string) bool { return !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") }

func layer(imp string) string {
	rest, ok := strings.CutPrefix(imp, module+"/")
	if !ok {
		return ""
	}
	return strings.SplitN(rest, "/", 2)[0]
}

// allowed says whether a package in layer from may import imp.
func allowed(from, fromPath, imp string) bool {
	to := layer(imp)
	switch from {
	case "domain":
		return isStd(imp) || to == "domain"
	case "ports":
		return isStd(imp) || to == "domain" || to == "ports" || (strings.HasSuffix(fromPath, "test") && isTestLib(imp))
	case "app":
		return isStd(imp) || to == "domain" || to == "ports" || to == "app"
	case "adapters":
		if to == "cmd" {
			return false
		}
		if to == "adapters" {
			// An adapter may use its own subpackages, never another adapter.
			return adapterName(imp) == adapterName(fromPath)
		}
		return true
	case "migrations":
		return isStd(imp)
	}
	return true
}

func isTestLib(imp string) bool { return strings.HasPrefix(imp, "github.com/stretchr/testify") }

func adapterName(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, module+"/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

func TestDependenciesPointInward(t *testing.T) {
	for _, p := range listPackages(t) {
		from := layer(p.ImportPath)
		for _, imp := range p.Imports {
			if !allowed(from, p.ImportPath, imp) {
				t.Errorf("%s (layer %q) must not import %s", p.ImportPath, from, imp)
			}
		}
	}
}

// The checker must itself be able to fail: these imports are the ones it exists to catch.
func TestDependencyRuleRejectsOutwardImports(t *testing.T) {
	bad := []struct{ from, imp string }{
		{module + "/domain/account", "github.com/uptrace/bun"},
		{module + "/domain/account", module + "/ports"},
		{module + "/app/command", module + "/adapters/postgres"},
		{module + "/app/command", "github.com/gofiber/fiber/v2"},
		{module + "/ports", "go.uber.org/fx"},
		{module + "/adapters/http", module + "/adapters/postgres"},
		{module + "/adapters/http", module + "/cmd/accounts"},
	}
	for _, b := range bad {
		if allowed(layer(b.from), b.from, b.imp) {
			t.Errorf("rule lets %s import %s", b.from, b.imp)
		}
	}
}
