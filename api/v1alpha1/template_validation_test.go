package v1alpha1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// validTemplate is a namespaced template with an argument, a metric and a
// judge, which the cases below break one at a time.
func validTemplate() *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "template-", Namespace: namespace},
		Spec: v1alpha1.AnalysisTemplateSpec{
			Args: []v1alpha1.AnalysisTemplateArg{{Name: "maxErrorRate", Type: v1alpha1.ArgNumber, Default: ptr.To("0.01")}},
			Analysis: v1alpha1.Analysis{
				Metrics: []v1alpha1.Metric{{
					Name:           "error-rate",
					Query:          `sum(rate(errors{workload="{{ .Canary }}"}[{{ .Interval }}])) > $(args.maxErrorRate)`,
					ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)},
				}},
				Judge: &v1alpha1.Judge{Requests: `sum(requests{w="{{ .Workload }}"})`, Errors: `sum(errors{w="{{ .Workload }}"})`},
			},
		},
	}
}

var _ = Describe("Analysis templates", func() {
	It("accepts a template, a cluster template and a Canary whose analysis is only a reference, and defaults the kinds", func() {
		t := validTemplate()
		Expect(k8sClient.Create(ctx, t)).To(Succeed())
		ct := &v1alpha1.ClusterAnalysisTemplate{ObjectMeta: metav1.ObjectMeta{GenerateName: "preset-"}, Spec: t.Spec}
		ct.Spec.Args = []v1alpha1.AnalysisTemplateArg{{Name: "namespace"}}
		Expect(k8sClient.Create(ctx, ct)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, ct)).To(Succeed()) })

		got := &v1alpha1.ClusterAnalysisTemplate{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ct), got)).To(Succeed())
		Expect(got.Spec.Args[0].Type).To(Equal(v1alpha1.ArgString))

		c := validCanary()
		c.Spec.Analysis = &v1alpha1.Analysis{TemplateRef: &v1alpha1.AnalysisTemplateRef{Name: ct.Name,
			Args: []v1alpha1.AnalysisArgValue{{Name: "namespace", Value: "shop"}}}}
		Expect(k8sClient.Create(ctx, c)).To(Succeed())
		gotCanary := &v1alpha1.Canary{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(c), gotCanary)).To(Succeed())
		Expect(gotCanary.Spec.Analysis.TemplateRef.Kind).To(Equal(v1alpha1.KindClusterAnalysisTemplate))
	})

	DescribeTable("refuses a template that is wrong, naming the field and the fix",
		func(mutate func(*v1alpha1.AnalysisTemplate), field string, message string) {
			t := validTemplate()
			mutate(t)
			err := k8sClient.Create(ctx, t)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("a template that refers to another template",
			func(t *v1alpha1.AnalysisTemplate) {
				t.Spec.TemplateRef = &v1alpha1.AnalysisTemplateRef{Name: "istio"}
			},
			"spec", "a template cannot refer to another template"),
		Entry("a template with neither metrics nor judge",
			func(t *v1alpha1.AnalysisTemplate) { t.Spec.Metrics, t.Spec.Judge = nil, nil },
			"spec", "analysis needs a templateRef, at least one metric or a judge"),
		Entry("an argument whose name is not an identifier",
			func(t *v1alpha1.AnalysisTemplate) { t.Spec.Args[0].Name = "max-error-rate" },
			"spec.args[0].name", "should match"),
		Entry("an argument of an unknown type",
			func(t *v1alpha1.AnalysisTemplate) { t.Spec.Args[0].Type = "Regex" },
			"spec.args[0].type", `supported values: "String", "Number", "Duration"`),
		Entry("an argument declared twice",
			func(t *v1alpha1.AnalysisTemplate) { t.Spec.Args = append(t.Spec.Args, t.Spec.Args[0]) },
			"spec.args[1]", "Duplicate value"),
		Entry("a judge query in a template without {{ .Workload }}",
			func(t *v1alpha1.AnalysisTemplate) { t.Spec.Judge.Errors = "sum(errors)" },
			"spec.judge.errors", "errors must select one workload"),
	)

	It("refuses a reference that gives the same argument twice", func() {
		c := validCanary()
		c.Spec.Analysis = &v1alpha1.Analysis{TemplateRef: &v1alpha1.AnalysisTemplateRef{Name: "istio",
			Args: []v1alpha1.AnalysisArgValue{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}}
		err := k8sClient.Create(ctx, c)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("spec.analysis.templateRef.args[1]"))
	})
})
