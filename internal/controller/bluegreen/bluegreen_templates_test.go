package bluegreen_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// checksTemplate is the namespace's "checks" template (apiserver.ChecksTemplate:
// vector($(args.value)), passing up to 0.01).
func checksTemplate(ns string) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "checks", Namespace: ns},
		Spec:       apiserver.ChecksTemplate(suite.Prometheus.URL(), "0.001"),
	}
}

// clusterChecks is a cluster template named after the test's namespace,
// like checksTemplate but with a required argument, job, that selects a
// series in its query (vector($(args.value)) whatever the series holds).
func clusterChecks(ns string) *v1alpha1.ClusterAnalysisTemplate {
	t := &v1alpha1.ClusterAnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "checks-" + ns},
		Spec:       apiserver.ChecksTemplate(suite.Prometheus.URL(), "0.002"),
	}
	t.Spec.Args = append(t.Spec.Args, v1alpha1.AnalysisTemplateArg{Name: "job", Description: "The scrape job."})
	t.Spec.Metrics[0].Query = `vector($(args.value)) or on() up{job="$(args.job)"}`
	return t
}

// fromTemplates makes the BlueGreen's pre-promotion analysis one check of
// the namespace's "checks" template, and its post-promotion analysis one
// check of the cluster template clusterChecks(ns), with args; promotion is
// manual.
func fromTemplates(ns string, args ...v1alpha1.AnalysisArgValue) func(*v1alpha1.BlueGreen) {
	return func(bg *v1alpha1.BlueGreen) {
		bg.Spec.AutoPromotion = ptr.To(false)
		bg.Spec.PrePromotionAnalysis = &v1alpha1.PhaseAnalysis{Checks: 1, Analysis: v1alpha1.Analysis{
			TemplateRef: &v1alpha1.AnalysisTemplateRef{Kind: v1alpha1.KindAnalysisTemplate, Name: "checks"}}}
		bg.Spec.PostPromotionAnalysis = &v1alpha1.PhaseAnalysis{Checks: 1, Analysis: v1alpha1.Analysis{
			TemplateRef: &v1alpha1.AnalysisTemplateRef{Name: clusterChecks(ns).Name, Args: args}}}
	}
}

// stalledOn waits for the BlueGreen to be Stalled with InvalidSpec and a
// message that holds problem, and checks that no release has started.
func stalledOn(ns, problem string) {
	EventuallyWithOffset(1, func(g Gomega) {
		stalled := conditionOf(getBlueGreen(ns), v1alpha1.ConditionStalled)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
		g.Expect(stalled.Message).To(ContainSubstring(problem))
	}).Should(Succeed())
	bg := getBlueGreen(ns)
	ExpectWithOffset(1, bg.Status.ActiveColor).To(BeEmpty(), "nothing starts on an unresolved analysis")
	ExpectWithOffset(1, bg.Status.ActiveRevision).To(BeEmpty())
	ExpectWithOffset(1, replicasOf(ns, blue)).To(Equal(int32(-1)), "no color is created")
}

var _ = Describe("A BlueGreen whose analyses come from templates", func() {
	It("stalls while a template or an argument is missing, starts nothing, and goes on once both are there", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		Expect(k8s.Create(ctx, clusterChecks(ns))).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, clusterChecks(ns))).To(Succeed()) })
		newBlueGreen(ns, fromTemplates(ns))
		stalledOn(ns, "spec.prePromotionAnalysis.templateRef: AnalysisTemplate/checks not found")

		Expect(k8s.Create(ctx, checksTemplate(ns))).To(Succeed())
		stalledOn(ns, `spec.postPromotionAnalysis.templateRef: ClusterAnalysisTemplate/checks-`+ns+
			` needs argument "job" (String: The scrape job.)`)

		bg := getBlueGreen(ns)
		patch := client.MergeFrom(bg.DeepCopy())
		bg.Spec.PostPromotionAnalysis.TemplateRef.Args = []v1alpha1.AnalysisArgValue{{Name: "job", Value: "orders"}}
		Expect(k8s.Patch(ctx, bg, patch)).To(Succeed())
		bg = waitStable(ns)
		Expect(conditionOf(bg, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		Expect(bg.Status.PinnedAnalyses).To(BeEmpty(), "nothing is pinned while no release is in flight")
	})

	It("pins both analyses with their arguments and overrides, and runs the pins when a template changes mid-release", func() {
		ns := newNamespace()
		cluster := clusterChecks(ns)
		Expect(k8s.Create(ctx, cluster)).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, cluster)).To(Succeed()) })
		Expect(k8s.Create(ctx, checksTemplate(ns))).To(Succeed())
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, fromTemplates(ns, v1alpha1.AnalysisArgValue{Name: "job", Value: "orders"},
			v1alpha1.AnalysisArgValue{Name: "value", Value: "0.003"}), func(bg *v1alpha1.BlueGreen) {
			bg.Spec.PrePromotionAnalysis.FailureLimit = 1
			bg.Spec.PrePromotionAnalysis.Metrics = []v1alpha1.Metric{{Name: "saturation", Query: "vector(0.2)",
				ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.9)}}}
		})
		waitStable(ns)

		v2 := setImage(ns, "orders:v2")
		var bg *v1alpha1.BlueGreen
		Eventually(func(g Gomega) {
			bg = getBlueGreen(ns)
			g.Expect(bg.Status.Phase).To(Equal(v1alpha1.PhaseWaitingPromotion))
		}).Should(Succeed())
		Expect(bg.Status.Analysis.Results).To(ConsistOf(
			And(HaveField("Name", "error-rate"), HaveField("Outcome", v1alpha1.OutcomePassed)),
			And(HaveField("Name", "saturation"), HaveField("Outcome", v1alpha1.OutcomePassed))))
		pins := map[string]v1alpha1.PinnedAnalysis{}
		for _, p := range bg.Status.PinnedAnalyses {
			Expect(p.Revision).To(Equal(v2))
			pins[p.Field] = p
		}
		Expect(pins).To(HaveLen(2))
		pre, post := pins["prePromotionAnalysis"], pins["postPromotionAnalysis"]
		Expect(pre.Template).To(Equal("AnalysisTemplate/checks"))
		Expect(pre.Analysis.Metrics).To(HaveLen(2), "the template's metric and the local one")
		Expect(pre.Analysis.Metrics[0].Query).To(Equal("vector(0.001)"), "the template's default")
		Expect(pre.Analysis.FailureLimit).To(Equal(int32(1)), "the local override")
		Expect(pre.Analysis.Interval.Duration).To(Equal(5*time.Second), "the template's value")
		Expect(post.Template).To(Equal("ClusterAnalysisTemplate/" + cluster.Name))
		Expect(post.TemplateGeneration).To(Equal(cluster.Generation))
		Expect(post.Analysis.Metrics).To(HaveLen(1))
		Expect(post.Analysis.Metrics[0].Query).To(Equal(`vector(0.003) or on() up{job="orders"}`), "both arguments given")

		// The cluster template now fails every check; the release in
		// flight still runs what it pinned, and is promoted.
		patch := client.MergeFrom(cluster.DeepCopy())
		cluster.Spec.Args[0].Default = ptr.To("0.5")
		cluster.Spec.Metrics[0].Query = "vector(0.5)"
		Expect(k8s.Patch(ctx, cluster, patch)).To(Succeed())
		command(ns, v1alpha1.CommandPromote)
		Eventually(func(g Gomega) {
			bg = getBlueGreen(ns)
			g.Expect(bg.Status.ActiveRevision).To(Equal(v2))
			g.Expect(bg.Status.PinnedAnalyses).To(BeEmpty(), "nothing stays pinned once the release is over")
		}).Should(Succeed())
		Expect(bg.Status.AbortedAt).To(BeNil())
		Expect(bg.Status.Analysis.Results).To(ConsistOf(
			And(HaveField("Name", "error-rate"), HaveField("Outcome", v1alpha1.OutcomePassed), HaveField("Value", "0.003"))))
		Expect(selected(ns, target)).To(Equal(green))
	})
})
