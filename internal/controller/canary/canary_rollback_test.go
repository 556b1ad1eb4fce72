package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// analysed gives a Canary an analysis whose one metric is the PromQL query
// q, checked every 5 seconds against the real Prometheus, with the steps held
// long enough for checks to run.
func analysed(q string, failureLimit int32) func(*v1alpha1.Canary) {
	return func(c *v1alpha1.Canary) {
		c.Spec.Steps = []v1alpha1.CanaryStep{
			{SetWeight: ptr.To[int32](10)},
			{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: 12 * time.Second}}},
			{SetWeight: ptr.To[int32](50)},
		}
		c.Spec.Analysis = &v1alpha1.Analysis{
			Interval:     &metav1.Duration{Duration: 5 * time.Second},
			FailureLimit: failureLimit,
			ErrorLimit:   2,
			Provider:     &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: suite.Prometheus.URL()},
			Metrics: []v1alpha1.Metric{{
				Name: "error-rate", Query: q, ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)},
			}},
		}
	}
}

var _ = Describe("A Canary rollback", func() {
	It("rolls back a revision whose analysis fails, and never raises the weight after that", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, analysed("vector(0.5)", 2))
		stable := waitStable(ns).Status.StableRevision

		weights := recordWeights(ns, target)
		bad := setImage(ns, "podinfo:v3-bad")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(conditionOf(c, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(0)))
		}).Should(Succeed())
		time.Sleep(2 * time.Second) // long enough for a wrong weight to show
		seen := weights.Stop()

		c := getCanary(ns)
		Expect(c.Status.CanaryRevision).To(Equal(bad))
		Expect(c.Status.StableRevision).To(Equal(stable), "the primary keeps the stable revision")
		Expect(c.Status.Phase).To(Equal(v1alpha1.PhaseRolledBack))
		Expect(c.Status.Analysis.Failures).To(BeNumerically(">=", 2))
		Expect(c.Status.Analysis.Results).To(ContainElement(And(
			HaveField("Name", "error-rate"), HaveField("Outcome", v1alpha1.OutcomeFailed))))
		Expect(conditionOf(c, v1alpha1.ConditionStalled).Message).To(ContainSubstring("rolled back"))
		Expect(seen).To(Equal([]int32{0, 10, 0}), "10%% for the first step, then straight back to 0")
		Expect(getDeployment(ns, workload.PrimaryName(target)).Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v1"))
	})

	It("rolls back at once on an abort command", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](20)}, {Pause: &v1alpha1.Pause{}}}
		})
		waitStable(ns)
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, target) }).Should(Equal(int32(20)))

		command(ns, v1alpha1.CommandAbort)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(c.Status.LastCommand).NotTo(BeNil())
			g.Expect(c.Status.LastCommand.Name).To(Equal(v1alpha1.CommandAbort))
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)))
		}).Should(Succeed())
	})

	It("holds while the metric provider is unreachable, then pauses and says why, never rolling back", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, analysed("vector(0)", 1), func(c *v1alpha1.Canary) {
			c.Spec.Analysis.Provider.Address = "http://127.0.0.1:1" // nothing listens there
		})
		waitStable(ns)
		setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.PausedAt).NotTo(BeNil())
			g.Expect(conditionOf(c, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonProviderUnavailable))
		}).Should(Succeed())
		c := getCanary(ns)
		Expect(c.Status.AbortedAt).To(BeNil())
		Expect(c.Status.Analysis.Failures).To(BeZero())
		Expect(c.Status.Analysis.Results[0].Outcome).To(Equal(v1alpha1.OutcomeError))
		Expect(routedWeight(ns, target)).To(Equal(int32(10)), "the weight holds where it was")
	})

	It("restarts from the first step when a new revision arrives mid-release", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](10)}, {SetWeight: ptr.To[int32](30)}, {Pause: &v1alpha1.Pause{}},
			}
		})
		waitStable(ns)
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, target) }).Should(Equal(int32(30)))

		weights := recordWeights(ns, target)
		v3 := setImage(ns, "podinfo:v3")
		// Why the recorded weights and not the route alone: the status names
		// v3 before the route moves (status is written first), while the
		// route still carries v2's 30.
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.CanaryRevision).To(Equal(v3))
			g.Expect(weights.Seen()).To(Equal([]int32{30, 0, 10, 30}))
		}).Should(Succeed())
		Expect(weights.Stop()).To(Equal([]int32{30, 0, 10, 30}), "v3 starts over from 0 and the first step")
	})
})
