package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/cli"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/promserver"
)

// The specs run `kubectl sluice analysis` against a real Prometheus that
// scrapes Istio-shaped counters of podinfo (canary) and podinfo-primary,
// with the shipped istio preset installed.
var _ = Describe("kubectl sluice analysis", Ordered, func() {
	var (
		ns   string
		prom *promserver.Server
	)

	BeforeAll(func() {
		ns = newNamespace()
		reg := prometheus.NewRegistry()
		requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_requests_total"},
			[]string{"reporter", "destination_workload", "destination_workload_namespace", "response_code"})
		reg.MustRegister(requests)
		exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		DeferCleanup(exporter.Close)
		stop := make(chan struct{})
		DeferCleanup(func() { close(stop) })
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
					requests.WithLabelValues("destination", "podinfo-primary", ns, "200").Add(10)
					requests.WithLabelValues("destination", "podinfo", ns, "200").Add(9)
					requests.WithLabelValues("destination", "podinfo", ns, "503").Add(1)
				}
			}
		}()
		var err error
		prom, err = promserver.Run(ctx, promserver.Options{Targets: []string{exporter.URL}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(prom.Stop)
		Expect(prom.WaitForTargets(ctx)).To(Succeed())

		root, err := apiserver.RepoRoot()
		Expect(err).NotTo(HaveOccurred())
		b, err := os.ReadFile(filepath.Join(root, "config", "presets", "istio.yaml"))
		Expect(err).NotTo(HaveOccurred())
		preset := &v1alpha1.ClusterAnalysisTemplate{}
		Expect(yaml.UnmarshalStrict(b, preset)).To(Succeed())
		Expect(k8s.Create(ctx, preset)).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, preset)).To(Succeed()) })
	})

	run := func(name string, args ...string) (string, error) {
		out := &bytes.Buffer{}
		root := cli.NewRootCommand(cli.Env{
			Out:       out,
			Client:    func() (client.Client, error) { return k8s, nil },
			Namespace: func() (string, error) { return ns, nil },
		})
		root.SetArgs(append([]string{"analysis", name}, args...))
		err := cli.Execute(ctx, root)
		return out.String(), err
	}
	report := func(name string, args ...string) []cli.AnalysisReport {
		var reports []cli.AnalysisReport
		Eventually(func(g Gomega) {
			out, err := run(name, append(args, "--output", "json")...)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(json.Unmarshal([]byte(out), &reports)).To(Succeed(), out)
			// The rates need two scrapes of a moving counter.
			g.Expect(reports[0].Queries[0].Outcome).NotTo(Equal("NoData"), "%+v", reports[0].Queries[0])
		}).Should(Succeed())
		return reports
	}
	query := func(rep cli.AnalysisReport, name string) cli.QueryReport {
		for _, q := range rep.Queries {
			if q.Name == name {
				return q
			}
		}
		Fail("no query named " + name)
		return cli.QueryReport{}
	}
	preset := func(c *v1alpha1.Canary) {
		c.Spec.Analysis = &v1alpha1.Analysis{TemplateRef: &v1alpha1.AnalysisTemplateRef{Name: "istio"}}
	}

	It("renders the preset's queries for canary and primary, runs them and judges each value", func() {
		newCanary(ns, "podinfo", preset)
		rep := report("podinfo", "--prometheus-address", prom.URL())[0]
		Expect(rep.Source).To(Equal("ClusterAnalysisTemplate/istio, resolved now"))
		Expect(rep.Canary).To(Equal("podinfo"))
		Expect(rep.Primary).To(Equal("podinfo-primary"))
		rate := query(rep, "request-success-rate")
		Expect(rate.Query).To(ContainSubstring(`destination_workload="podinfo"`))
		Expect(rate.Query).To(ContainSubstring(`destination_workload_namespace="` + ns + `"`))
		Expect(rate.Value).To(Equal("0.9"))
		Expect(rate.Threshold).To(Equal("[0.99, +Inf)"))
		Expect(rate.Outcome).To(Equal("Failed"))
		Expect(query(rep, "request-duration-p99").Cause).To(ContainSubstring(
			"no series named istio_request_duration_milliseconds_bucket at all"), "this Prometheus has no histogram")
		Expect(query(rep, "judge requests (canary)").Outcome).To(Equal("Read"))
		Expect(query(rep, "judge errors (primary)").Cause).To(ContainSubstring(
			`with destination_workload="podinfo-primary" and response_code=~"5.." together (each alone has some)`))
		Expect(query(rep, "judge requests (primary)").Query).To(ContainSubstring(`destination_workload="podinfo-primary"`))

		table, err := run("podinfo", "--prometheus-address", prom.URL())
		Expect(err).NotTo(HaveOccurred())
		Expect(table).To(MatchRegexp(`request-success-rate\s+0\.9\s+\[0\.99, \+Inf\)\s+Failed`))
		Expect(table).To(ContainSubstring("canary " + ns + "/podinfo, analysis (ClusterAnalysisTemplate/istio, resolved now): canary podinfo, primary podinfo-primary"))
	})

	It("finds a typo in a metric name, a workload with no series and a query that does not parse", func() {
		newCanary(ns, "orders", preset, func(c *v1alpha1.Canary) {
			c.Spec.Analysis.Metrics = []v1alpha1.Metric{
				{Name: "typo", Query: `sum(istio_request_total{destination_workload="{{ .Canary }}"})`,
					ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(1.0)}},
				{Name: "syntax", Query: `sum(rate(istio_requests_total[1m])`, ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(1.0)}},
			}
		})
		out, err := run("orders", "--prometheus-address", prom.URL(), "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		var reports []cli.AnalysisReport
		Expect(json.Unmarshal([]byte(out), &reports)).To(Succeed())
		rep := reports[0]
		Expect(query(rep, "typo").Cause).To(ContainSubstring("no series named istio_request_total at all: a typo"))
		Expect(query(rep, "syntax").Outcome).To(Equal("Error"))
		Expect(query(rep, "syntax").Cause).To(ContainSubstring("the provider refused the query"))
		Expect(query(rep, "request-success-rate").Cause).To(ContainSubstring(
			`no series of istio_requests_total with destination_workload="orders" (there are some without it)`))
	})

	It("says when the provider is unreachable, and when the analysis names none", func() {
		newCanary(ns, "cart", preset)
		rep := func(args ...string) cli.AnalysisReport {
			out, err := run("cart", append(args, "-o", "json")...)
			Expect(err).NotTo(HaveOccurred())
			var reports []cli.AnalysisReport
			Expect(json.Unmarshal([]byte(out), &reports)).To(Succeed())
			return reports[0]
		}
		down := query(rep("--prometheus-address", "http://127.0.0.1:1"), "request-success-rate")
		Expect(down.Outcome).To(Equal("Error"))
		Expect(down.Cause).To(ContainSubstring("provider unreachable"))
		Expect(query(rep(), "request-success-rate").Cause).To(ContainSubstring("give its address with --prometheus-address"))
	})

	It("refuses a release without analysis and an unknown output format", func() {
		newCanary(ns, "plain")
		_, err := run("plain")
		Expect(err).To(MatchError(ContainSubstring("has no analysis")))
		_, err = run("plain", "-o", "yaml")
		Expect(err).To(MatchError(ContainSubstring(`unknown --output "yaml"`)))
	})
})
