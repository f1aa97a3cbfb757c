// Package archtest holds the test that the module's imports follow the package map of
// ARCHITECTURE.md: a package may import only the packages its row lists.
package archtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/kubeinfer/kubeinfer/"

var ticked = regexp.MustCompile("`([^`]+)`")

// packageMap reads ARCHITECTURE.md's table: package → the module packages it may import
// (a pattern ending in /... allows everything below it).
func packageMap(t *testing.T, root string) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string][]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) != 5 {
			continue
		}
		// A package row's first cell is the package path alone, in backticks.
		pkg := ticked.FindStringSubmatch(cols[1])
		if pkg == nil || strings.TrimSpace(cols[1]) != "`"+pkg[1]+"`" {
			continue
		}
		var allowed []string
		for _, m := range ticked.FindAllStringSubmatch(cols[3], -1) {
			allowed = append(allowed, m[1])
		}
		rules[pkg[1]] = allowed
	}
	if len(rules) < 10 {
		t.Fatalf("found %d rows in ARCHITECTURE.md's package map", len(rules))
	}
	return rules
}

func allows(allowed []string, imp string) bool {
	for _, a := range allowed {
		if a == imp || strings.HasSuffix(a, "/...") && strings.HasPrefix(imp, strings.TrimSuffix(a, "...")) {
			return true
		}
	}
	return false
}

func TestImportsFollowThePackageMap(t *testing.T) {
	root := filepath.Join("..", "..")
	rules := packageMap(t, root)
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}",
		"./api/...", "./controllers/...", "./cmd/...", "./worker/...", "./internal/...", "./cuda/...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		allowed, ok := rules[pkg]
		if !ok {
			t.Errorf("%s is not in ARCHITECTURE.md's package map: add a row saying what it owns and may import", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if imp = strings.TrimPrefix(imp, module); !allows(allowed, imp) {
				t.Errorf("%s imports %s, which its row in ARCHITECTURE.md does not allow", pkg, imp)
			}
		}
	}
}
