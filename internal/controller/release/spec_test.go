package release_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
)

func TestCheckCanary(t *testing.T) {
	spec := func(mutate func(*v1alpha1.CanarySpec)) *v1alpha1.CanarySpec {
		s := &v1alpha1.CanarySpec{
			Analysis: &v1alpha1.Analysis{
				Metrics: []v1alpha1.Metric{{Name: "m", Query: `sum(x{w="{{ .Canary }}"}[{{ .Interval }}])`,
					ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(1.0)}}},
				Judge: &v1alpha1.Judge{Requests: `sum(r{w="{{ .Workload }}"})`, Errors: `sum(e{w="{{ .Workload }}"})`},
			},
			Hooks: []v1alpha1.CanaryHook{{Name: "h", HookAction: v1alpha1.HookAction{Job: &v1alpha1.JobHook{}}}},
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	g := NewWithT(t)
	g.Expect(release.CheckCanary(spec(nil))).To(Succeed())

	for _, tc := range []struct {
		name   string
		mutate func(*v1alpha1.CanarySpec)
		want   []string
	}{
		{"a query template that does not parse", func(s *v1alpha1.CanarySpec) { s.Analysis.Metrics[0].Query = `x{w="{{ .Canary "}` },
			[]string{"spec.analysis.metrics[0].query:", "parse"}},
		{"an unknown template field", func(s *v1alpha1.CanarySpec) { s.Analysis.Judge.Errors = `e{w="{{ .Workload }}",n="{{ .Nmespace }}"}` },
			[]string{"spec.analysis.judge.errors:", "Nmespace"}},
		{"a hook template that did not decode", func(s *v1alpha1.CanarySpec) { s.Hooks[0].Job.TemplateError = "not a pod template: boom" },
			[]string{"spec.hooks[0].job.template:", "boom", "write a pod template"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := release.CheckCanary(spec(tc.mutate))
			g.Expect(err).To(HaveOccurred())
			for _, w := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
		})
	}
}

func TestCheckBlueGreen(t *testing.T) {
	g := NewWithT(t)
	bg := &v1alpha1.BlueGreenSpec{PostPromotionAnalysis: &v1alpha1.PhaseAnalysis{Analysis: v1alpha1.Analysis{
		SampleQuery: `{{ if }}`,
	}}}
	err := release.CheckBlueGreen(bg)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.postPromotionAnalysis.sampleQuery:"))
	bg.PostPromotionAnalysis.SampleQuery = `sum(x{w="{{ .Canary }}"})`
	g.Expect(release.CheckBlueGreen(bg)).To(Succeed())
}
