package server

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// dashboardFile is the Grafana dashboard of config/grafana; controllers tests the
// operator's names in it the same way.
const dashboardFile = "../../config/grafana/kubeinfer-dashboard.json"

// dashboardMetrics are the metric names the dashboard's queries use, histogram suffixes removed.
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title, UID    string
		SchemaVersion int
		Panels        []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion == 0 || len(d.Panels) == 0 {
		t.Fatalf("%s lacks a Grafana dashboard's title, uid, schemaVersion or panels", dashboardFile)
	}
	name := regexp.MustCompile(`\b(kubeinfer_[a-z0-9_]+|vllm:[a-z0-9_]+|controller_runtime_[a-z0-9_]+)`)
	var names []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			found := name.FindAllString(tg.Expr, -1)
			if len(found) == 0 {
				t.Errorf("panel %q: query %q names no kubeinfer, vllm: or controller_runtime metric", p.Title, tg.Expr)
			}
			for _, n := range found {
				if strings.Contains(tg.Expr, n+"_bucket") || strings.HasSuffix(n, "_bucket") {
					n = strings.TrimSuffix(n, "_bucket")
				}
				names = append(names, n)
			}
		}
	}
	return names
}

// registeredNames are the names of the metrics a registry describes.
func registeredNames(c prometheus.Collector) map[string]bool {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		if m := fq.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	return names
}

// TestDashboardUsesWorkerMetrics: every worker metric the dashboard queries is one the
// worker registers.
func TestDashboardUsesWorkerMetrics(t *testing.T) {
	m := newMetrics("m", nil)
	ours := registeredNames(m.reg)
	for _, n := range dashboardMetrics(t) {
		if (strings.HasPrefix(n, "kubeinfer_worker_") || strings.HasPrefix(n, "vllm:")) && !ours[n] {
			t.Errorf("the dashboard queries %s, which the worker does not export", n)
		}
	}
}
