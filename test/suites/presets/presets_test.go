package presets_test

import (
	"context"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	promanalysis "github.com/sluice-dev/sluice/internal/analysis/prometheus"
	"github.com/sluice-dev/sluice/internal/outbound"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/promserver"
)

const namespace = "shop"

// A mesh exports, for one version of a workload, one request with its
// response code and latency.
type mesh struct {
	preset  string
	canary  string // the workload name the preset sees for each version
	primary string
	serve   func(version string, code int, latency time.Duration)
}

// meshes registers each mesh's own metrics, with its own names, labels and
// buckets, in reg.
func meshes(reg *prometheus.Registry) []mesh {
	istioReq := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_requests_total"},
		[]string{"reporter", "destination_workload", "destination_workload_namespace", "response_code", "source_workload"})
	istioDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "istio_request_duration_milliseconds",
		Buckets: []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}},
		[]string{"reporter", "destination_workload", "destination_workload_namespace", "response_code"})
	linkerdResp := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "response_total"},
		[]string{"direction", "namespace", "deployment", "classification", "status_code"})
	linkerdLat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "response_latency_ms",
		Buckets: []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000}},
		[]string{"direction", "namespace", "deployment", "status_code"})
	traefikReq := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "traefik_service_requests_total"},
		[]string{"service", "code", "method", "protocol"})
	traefikDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "traefik_service_request_duration_seconds",
		Buckets: []float64{0.1, 0.3, 1.2, 5}}, []string{"service", "code", "method", "protocol"})
	reg.MustRegister(istioReq, istioDur, linkerdResp, linkerdLat, traefikReq, traefikDur)

	return []mesh{
		{preset: "istio", canary: "podinfo", primary: "podinfo-primary",
			serve: func(workload string, code int, latency time.Duration) {
				c := strconv.Itoa(code)
				// The caller's sidecar reports too: the preset must count each request once.
				istioReq.WithLabelValues("source", workload, namespace, "503", "frontend").Inc()
				istioReq.WithLabelValues("destination", workload, namespace, c, "frontend").Inc()
				istioDur.WithLabelValues("destination", workload, namespace, c).Observe(ms(latency))
			}},
		{preset: "linkerd", canary: "podinfo", primary: "podinfo-primary",
			serve: func(workload string, code int, latency time.Duration) {
				class := "success"
				if code >= 500 {
					class = "failure"
				}
				linkerdResp.WithLabelValues("inbound", namespace, workload, class, strconv.Itoa(code)).Inc()
				linkerdResp.WithLabelValues("outbound", namespace, workload, "failure", "503").Inc()
				linkerdLat.WithLabelValues("inbound", namespace, workload, strconv.Itoa(code)).Observe(ms(latency))
			}},
		{preset: "traefik", canary: "podinfo", primary: "podinfo-primary",
			serve: func(workload string, code int, latency time.Duration) {
				// Traefik counts per backend Service: the canary's is
				// <target>-canary, the primary's <target>-primary.
				svc := workload
				if workload == "podinfo" {
					svc = "podinfo-canary"
				}
				service := namespace + "-" + svc + "-http-9898@kubernetesgateway"
				traefikReq.WithLabelValues(service, strconv.Itoa(code), "GET", "http").Inc()
				traefikDur.WithLabelValues(service, strconv.Itoa(code), "GET", "http").Observe(latency.Seconds())
			}},
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// traffic sends n requests to each version: the primary answers every one
// in 20ms, the canary fails one in ten and answers in 800ms.
func traffic(m mesh, n int) {
	for i := range n {
		m.serve(m.primary, 200, 20*time.Millisecond)
		code := 200
		if i%10 == 0 {
			code = 503
		}
		m.serve(m.canary, code, 800*time.Millisecond)
	}
}

// loadPreset reads config/presets/<name>.yaml, the file the chart ships too.
func loadPreset(t *testing.T, name string) *v1alpha1.ClusterAnalysisTemplate {
	t.Helper()
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "config", "presets", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl v1alpha1.ClusterAnalysisTemplate
	if err := yaml.UnmarshalStrict(b, &tmpl); err != nil {
		t.Fatalf("%s.yaml: %v", name, err)
	}
	return &tmpl
}

func TestEachPresetMeasuresItsMeshAsTheMeshCountsRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	all := meshes(reg)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)
	prom := promserver.Start(t, exporter.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := prom.WaitForTargets(ctx); err != nil {
		t.Fatal(err)
	}
	runner := &analysis.Runner{
		Providers: analysis.Registry{v1alpha1.ProviderPrometheus: promanalysis.Factory(
			promanalysis.WithOutbound(outbound.Policy{Allow: outbound.Loopback()}))},
		// The presets name no provider: the operator's default answers.
		Default: &analysis.DefaultProvider{Spec: v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: prom.URL()}},
	}
	// Live traffic, 10 requests per version and mesh every 100ms, until the
	// test ends: rates need a counter that moves.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, m := range all {
					traffic(m, 10)
				}
			}
		}
	}()
	resolved := map[string]*v1alpha1.Analysis{}
	for _, m := range all {
		tmpl := loadPreset(t, m.preset)
		a, err := analysis.Resolve(&v1alpha1.Analysis{TemplateRef: &v1alpha1.AnalysisTemplateRef{Name: tmpl.Name}}, &tmpl.Spec)
		if err != nil {
			t.Fatalf("resolve %s: %v", m.preset, err)
		}
		resolved[m.preset] = a
	}
	w := analysis.Workloads{Namespace: namespace, Name: "podinfo", Canary: "podinfo", Primary: "podinfo-primary"}

	// The baseline: threshold metrics need two scrapes for their rates.
	baselines := map[string]*v1alpha1.JudgeStatus{}
	for _, m := range all {
		t.Run(m.preset+" threshold metrics", func(t *testing.T) {
			g := NewWithT(t)
			var out analysis.CheckResult
			g.Eventually(func(g Gomega) {
				out = runner.Run(ctx, resolved[m.preset], w, nil, time.Now())
				g.Expect(out.Results).To(ContainElement(And(HaveField("Name", "request-success-rate"),
					HaveField("Outcome", v1alpha1.OutcomeFailed))), "%+v", out.Results)
			}, 15*time.Second, 500*time.Millisecond).Should(Succeed())
			rate := value(g, out, "request-success-rate")
			g.Expect(rate).To(BeNumerically("~", 0.9, 0.03), "one canary request in ten failed")
			g.Expect(value(g, out, "request-duration-p99")).To(BeNumerically(">", threshold(resolved[m.preset], "request-duration-p99")),
				"the canary answers in 800ms")
			baselines[m.preset] = out.Judge
		})
	}
	for _, m := range all {
		t.Run(m.preset+" judge counters", func(t *testing.T) {
			g := NewWithT(t)
			g.Eventually(func(g Gomega) {
				out := runner.Run(ctx, resolved[m.preset], w, baselines[m.preset], time.Now())
				g.Expect(out.Judge).NotTo(BeNil())
				errs := judgeMetric(out.Judge, "errors")
				g.Expect(errs).NotTo(BeNil(), "%+v", out.Results)
				g.Expect(errs.Canary.Requests).To(BeNumerically(">=", 50))
				// The other side's reports (Istio's source reporter, Linkerd's
				// outbound direction) all fail: counting them would show.
				g.Expect(float64(errs.Canary.Events)/float64(errs.Canary.Requests)).To(BeNumerically("~", 0.1, 0.03),
					"one canary request in ten failed, each request counted once")
				g.Expect(errs.Primary.Requests).To(BeNumerically(">=", 50))
				g.Expect(errs.Primary.Events).To(BeZero())
				slow := judgeMetric(out.Judge, "slowRequests")
				g.Expect(slow).NotTo(BeNil())
				g.Expect(slow.Canary.Events).To(Equal(slow.Canary.Requests), "every canary request is slower than the bucket")
				g.Expect(slow.Primary.Events).To(BeZero())
			}, 20*time.Second, 500*time.Millisecond).Should(Succeed())
		})
	}
}

func value(g Gomega, out analysis.CheckResult, name string) float64 {
	for _, r := range out.Results {
		if r.Name == name {
			v, err := strconv.ParseFloat(r.Value, 64)
			g.Expect(err).NotTo(HaveOccurred(), "%s: %+v", name, r)
			return v
		}
	}
	g.Expect(name).To(BeEmpty(), "no result named %s", name)
	return math.NaN()
}

func threshold(a *v1alpha1.Analysis, name string) float64 {
	for _, m := range a.Metrics {
		if m.Name == name && m.ThresholdRange.Max != nil {
			return *m.ThresholdRange.Max
		}
	}
	return math.NaN()
}

func judgeMetric(j *v1alpha1.JudgeStatus, name string) *v1alpha1.JudgeMetricStatus {
	for i := range j.Metrics {
		if j.Metrics[i].Name == name {
			return &j.Metrics[i]
		}
	}
	return nil
}
