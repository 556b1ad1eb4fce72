package gitops

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	_ "sigs.k8s.io/controller-runtime/pkg/controller" // registers the reconcile metrics, as in the operator
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/metrics"
)

var dashboardPath = filepath.Join("..", "..", "..", "config", "grafana", "sluice-dashboard.json")

// controllerRuntimeMetrics are the controller-runtime collectors the
// dashboard and docs/operations.md rely on. They are registered on
// controller-runtime's registry by its controller package; the test checks
// that the registry holds each name.
var controllerRuntimeMetrics = []string{
	"controller_runtime_reconcile_errors_total",
	"controller_runtime_reconcile_time_seconds",
	"controller_runtime_reconcile_total",
}

// queries returns every PromQL expression of the dashboard: the panels'
// targets and the template variables' label_values queries.
func queries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("parse %s: %v", dashboardPath, err)
	}
	var out []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Fatalf("panel %q has a target without expr", p.Title)
			}
			out = append(out, tg.Expr)
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatal(err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Fatalf("template query %q is not label_values(<selector>, <label>)", q.Query)
		}
		out = append(out, m[1])
	}
	return out
}

var (
	stringLiteral = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	braces        = regexp.MustCompile(`\{[^}]*\}`)
	brackets      = regexp.MustCompile(`\[[^\]]*\]`)
	grouping      = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	variable      = regexp.MustCompile(`\$\w+`)
	offset        = regexp.MustCompile(`\boffset\s+-?[0-9a-zA-Z]+`)
	identifier    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	number        = regexp.MustCompile(`[0-9][0-9.eE+-]*`)
	keywords      = []string{"and", "or", "unless", "bool", "offset", "inf", "nan"}
)

// metricNames returns the metric names expr selects. Label matchers,
// strings, ranges, grouping clauses, offsets and Grafana variables are cut
// first; what remains is functions (an identifier before a parenthesis),
// keywords, numbers and metric names.
func metricNames(expr string) []string {
	s := stringLiteral.ReplaceAllString(expr, " ")
	s = braces.ReplaceAllString(s, " ")
	s = brackets.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	s = variable.ReplaceAllString(s, " ")
	s = offset.ReplaceAllString(s, " ")
	s = number.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range identifier.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if strings.HasPrefix(strings.TrimSpace(s[loc[1]:]), "(") || slices.Contains(keywords, name) {
			continue
		}
		names = append(names, name)
	}
	return names
}

func TestMetricNamesAreFoundInPromQL(t *testing.T) {
	got := metricNames(`histogram_quantile(0.95, sum by (le, provider) (rate(a_bucket{x=~"b|c", y="d(e)"}[5m]))) ` +
		`/ on (name) group_left (phase) b_total offset 1h > bool 2e3 or vector(0) and c{name=~"$release"} unless d[$__range]`)
	if want := []string{"a_bucket", "b_total", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("metricNames found %v, want %v", got, want)
	}
}

// sluiceFamilies gathers metrics.New() on a fresh registry after one sample
// of each collector, with the type of each family.
func sluiceFamilies(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	c := metrics.New()
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	c.ObserveRelease("Canary", "shop", "podinfo", v1alpha1.PhaseProgressing, 10)
	c.ObserveJudge("Canary", "shop", "podinfo", &v1alpha1.JudgeStatus{
		Metrics: []v1alpha1.JudgeMetricStatus{{Name: "errors", RollbackEvidence: 1.5}}})
	c.ObserveQuery("prometheus", "ok", 20*time.Millisecond)
	c.Promotions.WithLabelValues("Canary", "shop", "podinfo").Inc()
	c.Rollbacks.WithLabelValues("Canary", "shop", "podinfo", v1alpha1.ReasonAnalysisFailed).Inc()
	c.AnalysisResults.WithLabelValues("Canary", "shop", "podinfo", "error-rate", string(v1alpha1.OutcomePassed)).Inc()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dto.MetricType{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetType()
	}
	return out
}

// registeredWithControllerRuntime reports whether controller-runtime's
// registry holds a collector named name: registering another one under the
// same name fails then.
func registeredWithControllerRuntime(t *testing.T, name string) bool {
	t.Helper()
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe"})
	err := ctrlmetrics.Registry.Register(probe)
	if err == nil {
		ctrlmetrics.Registry.Unregister(probe)
		return false
	}
	var already prometheus.AlreadyRegisteredError
	return errors.As(err, &already) || strings.Contains(err.Error(), name)
}

// familyOf maps a series name to its family: a histogram's _bucket, _sum
// and _count series belong to it.
func familyOf(name string, histograms func(string) bool) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && histograms(base) {
			return base
		}
	}
	return name
}

func TestEveryMetricTheDashboardQueriesIsRegisteredByTheOperator(t *testing.T) {
	if registeredWithControllerRuntime(t, "controller_runtime_no_such_metric") {
		t.Fatal("the registry probe finds a metric nobody registered")
	}
	for _, name := range controllerRuntimeMetrics {
		if !registeredWithControllerRuntime(t, name) {
			t.Fatalf("controller-runtime's registry has no %s", name)
		}
	}
	used := checkRegistered(t, queries(t))
	for name := range sluiceFamilies(t) {
		if !used[name] {
			t.Errorf("the dashboard shows nothing of %s", name)
		}
	}
}

// checkRegistered fails for each metric the queries name that neither
// metrics.New() nor controllerRuntimeMetrics provide, and returns the
// families they use.
func checkRegistered(t *testing.T, queries []string) map[string]bool {
	t.Helper()
	sluice := sluiceFamilies(t)
	histograms := func(base string) bool {
		return sluice[base] == dto.MetricType_HISTOGRAM || base == "controller_runtime_reconcile_time_seconds"
	}
	used := map[string]bool{}
	for _, q := range queries {
		names := metricNames(q)
		if len(names) == 0 {
			t.Fatalf("no metric found in %q", q)
		}
		for _, n := range names {
			f := familyOf(n, histograms)
			if _, ok := sluice[f]; !ok && !slices.Contains(controllerRuntimeMetrics, f) {
				t.Errorf("%s (in %q) is not a metric the operator registers", n, q)
			}
			used[f] = true
		}
	}
	return used
}

// alertQueries returns the expr of every rule in the PrometheusRule that
// docs/operations.md recommends.
func alertQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(apiVersion: monitoring.coreos.com/v1\n.*?)```").FindSubmatch(raw)
	if block == nil {
		t.Fatal("docs/operations.md has no PrometheusRule")
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(block[1], &rule); err != nil {
		t.Fatalf("parse the PrometheusRule: %v", err)
	}
	var out []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Fatalf("a rule without alert or expr: %+v", r)
			}
			out = append(out, r.Expr)
		}
	}
	return out
}

func TestEveryMetricTheDocumentedAlertsQueryIsRegisteredByTheOperator(t *testing.T) {
	qs := alertQueries(t)
	if len(qs) < 5 {
		t.Fatalf("found %d alerts, want the documented ones", len(qs))
	}
	checkRegistered(t, qs)
}
