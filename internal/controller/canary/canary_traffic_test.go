package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/mesh"
)

// errorRate is the canary's share of 5xx answers over the interval, as it
// would be written for a real Istio mesh. "or vector(0)" keeps a canary with
// no errors at all from reading as "no data".
const errorRate = `(sum(rate(istio_requests_total{destination_workload_namespace="{{ .Namespace }}",destination_workload="{{ .Canary }}",response_code=~"5.."}[{{ .Interval }}])) or vector(0))
/ sum(rate(istio_requests_total{destination_workload_namespace="{{ .Namespace }}",destination_workload="{{ .Canary }}"}[{{ .Interval }}]))`

// withTraffic starts the mesh emulator for the namespace's VirtualService,
// with the canary answering errorFraction of its requests with a 500, and
// points the real Prometheus at its counters.
func withTraffic(ns string, errorFraction float64) *mesh.Mesh {
	m, err := mesh.Start(ctx, mesh.Options{
		Client: k8s, Namespace: ns, VirtualService: target, Rate: 200, Default: target,
		Hosts: mesh.CanaryHosts(target),
		StandIns: map[string]mesh.Behaviour{
			target + "-primary": {Latency: 10 * time.Millisecond},
			target:              {Latency: 10 * time.Millisecond, ErrorFraction: errorFraction},
		},
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(m.Stop()).To(Succeed()) })
	Expect(suite.Prometheus.SetTargets(ctx, m.MetricsAddr())).To(Succeed())
	Expect(suite.Prometheus.WaitForTargets(ctx)).To(Succeed())
	return m
}

// measured gives a Canary an analysis of the canary's real error rate, with
// a minimum sample, checked every 5 seconds.
func measured(c *v1alpha1.Canary) {
	c.Spec.Steps = []v1alpha1.CanaryStep{
		{SetWeight: ptr.To[int32](20)},
		{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: 6 * time.Second}}},
		{SetWeight: ptr.To[int32](50)},
	}
	c.Spec.Analysis = &v1alpha1.Analysis{
		Interval:          &metav1.Duration{Duration: 5 * time.Second},
		FailureLimit:      2,
		MinSampleRequests: 20,
		SampleQuery:       `sum(increase(istio_requests_total{destination_workload_namespace="{{ .Namespace }}",destination_workload="{{ .Canary }}"}[{{ .Interval }}]))`,
		Provider:          &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: suite.Prometheus.URL()},
		Metrics: []v1alpha1.Metric{{
			Name: "error-rate", Query: errorRate, ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.05)},
		}},
	}
}

var _ = Describe("A Canary under real traffic", func() {
	It("promotes a healthy version and rolls back a bad one on the error rate Prometheus measures", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, measured)
		waitStable(ns)
		m := withTraffic(ns, 0)

		By("releasing a healthy v2: every check passes on real counters")
		v2 := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.StableRevision).To(Equal(v2))
		}, deadline.Scale(90*time.Second)).Should(Succeed())
		Expect(m.Sent(target)).To(BeNumerically(">", 100), "the canary served real requests")

		By("releasing v3, whose canary fails a fifth of its requests")
		Expect(m.SetBehaviour(target, mesh.Behaviour{Latency: 10 * time.Millisecond, ErrorFraction: 0.2})).To(Succeed())
		weights := recordWeights(ns, target)
		setImage(ns, "podinfo:v3-bad")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)))
		}, deadline.Scale(90*time.Second)).Should(Succeed())
		Expect(weights.Stop()).To(Equal([]int32{0, 20, 0}), "never above the step it failed on")

		c := getCanary(ns)
		Expect(c.Status.StableRevision).To(Equal(v2))
		failed := c.Status.Analysis.Results[0]
		Expect(failed.Name).To(Equal("error-rate"))
		Expect(failed.Outcome).To(Equal(v1alpha1.OutcomeFailed))
		Expect(failed.Message).To(ContainSubstring("above the range"))

		By("serving the apex traffic from v2 afterwards")
		before := m.Sent(target + "-primary")
		canaryBefore := m.Sent(target)
		Eventually(func() int64 { return m.Sent(target+"-primary") - before }).Should(BeNumerically(">", 200))
		Expect(m.Sent(target)-canaryBefore).To(BeNumerically("<=", 5), "the rolled-back canary gets no new traffic")
	})
})

var _ = Describe("The statistical judge under real traffic", func() {
	It("rolls back a canary that fails more often than the primary, and says by how much", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](20)},
				{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: 5 * time.Minute}}},
				{SetWeight: ptr.To[int32](50)},
			}
			c.Spec.Analysis = &v1alpha1.Analysis{
				Interval: &metav1.Duration{Duration: 5 * time.Second},
				Provider: &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: suite.Prometheus.URL()},
				Judge: &v1alpha1.Judge{
					Requests: `sum(istio_requests_total{destination_workload_namespace="{{ .Namespace }}",destination_workload="{{ .Workload }}"})`,
					Errors:   `sum(istio_requests_total{destination_workload_namespace="{{ .Namespace }}",destination_workload="{{ .Workload }}",response_code=~"5.."})`,
					Alpha:    0.05, Tolerance: 1, Mode: v1alpha1.JudgePerRequest,
				},
			}
		})
		waitStable(ns)
		m := withTraffic(ns, 0.08)
		Expect(m.SetBehaviour(target+"-primary", mesh.Behaviour{Latency: 10 * time.Millisecond, ErrorFraction: 0.01})).To(Succeed())

		setImage(ns, "podinfo:v2-bad")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
		}, deadline.Scale(90*time.Second)).Should(Succeed())

		c := getCanary(ns)
		judge := c.Status.Analysis.Judge
		Expect(judge).NotTo(BeNil())
		Expect(judge.Decision).To(Equal(v1alpha1.JudgeRollback))
		Expect(judge.Summary).To(ContainSubstring("primary"))
		Expect(judge.Metrics[0].RollbackEvidence).To(BeNumerically(">=", judge.Threshold))
		Expect(c.Status.CurrentStep).To(BeNumerically("<=", 1), "decided inside the 5-minute pause, long before its end")
	})
})
