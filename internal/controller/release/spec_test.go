package release_test

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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

func TestCheckTargetPort(t *testing.T) {
	target := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "podinfo"}}
	target.Spec.Template.Spec.Containers = []corev1.Container{
		{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}, {ContainerPort: 9797}}},
		{Name: "proxy", Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: 15000}}},
	}
	named := func(name string) v1alpha1.ServicePort {
		return v1alpha1.ServicePort{Port: 80, TargetPort: ptr.To(intstr.FromString(name))}
	}
	for _, tc := range []struct {
		name   string
		port   v1alpha1.ServicePort
		target *appsv1.Deployment
		want   string
	}{
		{name: "accepts a name the first container declares", port: named("http"), target: target},
		{name: "accepts a name another container declares", port: named("admin"), target: target},
		{name: "accepts a port number, whatever the template", port: v1alpha1.ServicePort{Port: 80,
			TargetPort: ptr.To(intstr.FromInt32(8080))}, target: target},
		{name: "accepts no targetPort (the port itself)", port: v1alpha1.ServicePort{Port: 80}, target: target},
		{name: "does not check before the target exists", port: named("web"), target: nil},
		{name: "refuses a name no container declares, naming the field and the names there are",
			port: named("web"), target: target,
			want: `spec.service.targetPort: no container of Deployment podinfo has a port named "web" (its pod template names only http, admin)`},
		{name: "refuses a name when the template names no port",
			port: named("http"), target: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "podinfo"}},
			want: `port named "http" (its pod template names no port): name the container port "http" in the Deployment, or write targetPort as a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := release.CheckTargetPort(tc.port, tc.target)
			if tc.want == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
			var spec *release.SpecError
			g.Expect(errors.As(err, &spec)).To(BeTrue())
			g.Expect(spec.Field).To(Equal("spec.service.targetPort"))
		})
	}
}
