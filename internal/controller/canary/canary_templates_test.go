package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// checksTemplate is a namespaced template whose one metric is
// vector($(args.value)), passing up to 0.01, checked every 5 seconds
// against the suite's real Prometheus (apiserver.ChecksTemplate).
func checksTemplate(ns, value string) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "checks", Namespace: ns},
		Spec:       apiserver.ChecksTemplate(suite.Prometheus.URL(), value),
	}
}

// fromTemplate makes a Canary's analysis a reference to the namespace's
// "checks" template with args, held at 10% by a manual pause.
func fromTemplate(args ...v1alpha1.AnalysisArgValue) func(*v1alpha1.Canary) {
	return func(c *v1alpha1.Canary) {
		c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](10)}, {Pause: &v1alpha1.Pause{}}, {SetWeight: ptr.To[int32](50)}}
		c.Spec.Analysis = &v1alpha1.Analysis{TemplateRef: &v1alpha1.AnalysisTemplateRef{
			Kind: v1alpha1.KindAnalysisTemplate, Name: "checks", Args: args}}
	}
}

var _ = Describe("A Canary whose analysis comes from a template", func() {
	It("stalls while the template is missing, starts nothing, and goes on once the template exists", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, fromTemplate())
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			stalled := conditionOf(c, v1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Message).To(ContainSubstring("spec.analysis.templateRef: AnalysisTemplate/checks not found"))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StableRevision).To(BeEmpty(), "nothing starts on an unresolved analysis")
			g.Expect(routedWeight(ns, target)).To(Equal(int32(-1)))
		}, 2*time.Second).Should(Succeed())

		Expect(k8s.Create(ctx, checksTemplate(ns, "0.001"))).To(Succeed())
		c := waitStable(ns)
		Expect(conditionOf(c, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		Expect(c.Status.PinnedAnalyses).To(BeEmpty(), "nothing is pinned while no release is in flight")
	})

	It("stalls on an argument of the wrong type or unknown to the template, naming it", func() {
		ns := newNamespace()
		Expect(k8s.Create(ctx, checksTemplate(ns, "0.001"))).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, fromTemplate(v1alpha1.AnalysisArgValue{Name: "value", Value: "1%"}))
		Eventually(func(g Gomega) {
			g.Expect(conditionOf(getCanary(ns), v1alpha1.ConditionStalled).Message).To(
				ContainSubstring(`argument "value" of AnalysisTemplate/checks: value "1%" is not a Number`))
		}).Should(Succeed())

		c := getCanary(ns)
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Analysis.TemplateRef.Args = []v1alpha1.AnalysisArgValue{{Name: "valeu", Value: "1"}}
		Expect(k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(conditionOf(getCanary(ns), v1alpha1.ConditionStalled).Message).To(
				ContainSubstring("AnalysisTemplate/checks has no argument valeu (it declares: value)"))
		}).Should(Succeed())
		Expect(getCanary(ns).Status.StableRevision).To(BeEmpty())
	})

	It("pins the resolved analysis with its overrides when a release starts, keeps it when the template changes, and resolves again for the next revision", func() {
		ns := newNamespace()
		tmpl := checksTemplate(ns, "0.001")
		Expect(k8s.Create(ctx, tmpl)).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, fromTemplate(), func(c *v1alpha1.Canary) {
			c.Spec.Analysis.FailureLimit = 1
			c.Spec.Analysis.Metrics = []v1alpha1.Metric{{Name: "saturation", Query: "vector(0.2)",
				ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.9)}}}
		})
		waitStable(ns)

		first := setImage(ns, "podinfo:v2")
		var pin v1alpha1.PinnedAnalysis
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.PinnedAnalyses).To(HaveLen(1))
			pin = c.Status.PinnedAnalyses[0]
			g.Expect(c.Status.Analysis).NotTo(BeNil())
			g.Expect(c.Status.Analysis.Results).To(ContainElement(And(
				HaveField("Name", "error-rate"), HaveField("Outcome", v1alpha1.OutcomePassed))))
		}).Should(Succeed())
		Expect(pin.Revision).To(Equal(first))
		Expect(pin.Template).To(Equal("AnalysisTemplate/checks"))
		Expect(pin.Analysis.Metrics).To(HaveLen(2), "the template's metric and the local one")
		Expect(pin.Analysis.Metrics[0].Query).To(Equal("vector(0.001)"))
		Expect(pin.Analysis.FailureLimit).To(Equal(int32(1)), "the local override")
		Expect(pin.Analysis.Interval.Duration).To(Equal(5*time.Second), "the template's value")

		// The template now says the check fails; the running release does not see it.
		patch := client.MergeFrom(tmpl.DeepCopy())
		tmpl.Spec.Args[0].Default = ptr.To("0.5")
		Expect(k8s.Patch(ctx, tmpl, patch)).To(Succeed())
		checks := getCanary(ns).Status.Analysis.Checks
		Eventually(func() int32 { return getCanary(ns).Status.Analysis.Checks }, deadline.Scale(20*time.Second)).Should(
			BeNumerically(">=", checks+2))
		c := getCanary(ns)
		Expect(c.Status.AbortedAt).To(BeNil())
		Expect(c.Status.PinnedAnalyses).To(ConsistOf(pin))
		Expect(routedWeight(ns, target)).To(Equal(int32(10)))

		// A new revision resolves the edited template and fails on it.
		second := setImage(ns, "podinfo:v3")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.CanaryRevision).To(Equal(second))
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(c.Status.PinnedAnalyses).To(HaveLen(1))
			g.Expect(c.Status.PinnedAnalyses[0].Revision).To(Equal(second))
			g.Expect(c.Status.PinnedAnalyses[0].Analysis.Metrics[0].Query).To(Equal("vector(0.5)"))
			g.Expect(c.Status.PinnedAnalyses[0].Digest).NotTo(Equal(pin.Digest))
		}, deadline.Scale(30*time.Second)).Should(Succeed())
	})
})
