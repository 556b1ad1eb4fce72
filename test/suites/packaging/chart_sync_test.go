package packaging

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestChartCopiesMatchConfig fails when the chart's copies of the CRDs, the
// manager's RBAC rules, the Grafana dashboard or the hook policy differ from config/, where
// controller-gen and the dashboard's authors write them.
func TestChartCopiesMatchConfig(t *testing.T) {
	r := root(t)
	crds, err := filepath.Glob(filepath.Join(r, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (err %v)", err)
	}
	pairs := map[string]string{
		"config/rbac/role.yaml":                "charts/sluice/files/manager-role.yaml",
		"config/grafana/sluice-dashboard.json": "charts/sluice/files/sluice-dashboard.json",
		"config/policy/hook_policy.yaml":       "charts/sluice/files/hook-policy.yaml",
	}
	for _, crd := range crds {
		pairs["config/crd/bases/"+filepath.Base(crd)] = "charts/sluice/crds/" + filepath.Base(crd)
	}
	for src, dst := range pairs {
		want, err := os.ReadFile(filepath.Join(r, src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(r, dst))
		if err != nil {
			t.Errorf("%s is missing (%v): run `make sync-chart`", dst, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: run `make sync-chart`", dst, src)
		}
	}
	// A CRD removed from config/ must leave the chart too.
	inChart, err := filepath.Glob(filepath.Join(r, "charts", "sluice", "crds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range inChart {
		if _, ok := pairs["config/crd/bases/"+filepath.Base(f)]; !ok {
			t.Errorf("charts/sluice/crds/%s has no counterpart in config/crd/bases: run `make sync-chart`", filepath.Base(f))
		}
	}
}
