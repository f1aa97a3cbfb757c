package controllers

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestDashboardUsesOperatorMetrics: every operator metric the Grafana dashboard queries is
// one the operator registers (its own and controller-runtime's); worker/server checks the
// worker's names.
func TestDashboardUsesOperatorMetrics(t *testing.T) {
	data, err := os.ReadFile("../config/grafana/kubeinfer-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct{ Targets []struct{ Expr string } }
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := (&Metrics{Load: &LoadProbe{}}).Register(reg); err != nil {
		t.Fatal(err)
	}
	ours := describedNames(reg)
	for n := range describedNames(metrics.Registry.(prometheus.Collector)) {
		ours[n] = true
	}
	name := regexp.MustCompile(`\b(kubeinfer_operator_[a-z0-9_]+|controller_runtime_[a-z0-9_]+)`)
	seen := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				seen++
				if !ours[strings.TrimSuffix(n, "_bucket")] {
					t.Errorf("the dashboard queries %s, which the operator does not export", n)
				}
			}
		}
	}
	if seen == 0 {
		t.Error("the dashboard queries no operator metric")
	}
}

func describedNames(c prometheus.Collector) map[string]bool {
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
