package v1alpha1_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

var _ = Describe("Defaults", func() {
	It("fills every defaulted field of a minimal Canary and keeps what was set", func() {
		c := &v1alpha1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "minimal", Namespace: namespace},
			Spec: v1alpha1.CanarySpec{
				TargetRef:      v1alpha1.TargetRef{Name: "podinfo"},
				Service:        v1alpha1.ServicePort{Port: 9898, TargetPort: ptr.To(intstr.FromString("http"))},
				TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
				Steps:          []v1alpha1.CanaryStep{weight(5), weight(100)},
				Analysis: &v1alpha1.Analysis{
					Provider: &v1alpha1.MetricProvider{Address: "https://prometheus:9090"},
					Judge:    &v1alpha1.Judge{Requests: `r{w="{{ .Workload }}"}`, Errors: `e{w="{{ .Workload }}"}`},
				},
				Hooks: []v1alpha1.CanaryHook{{Name: "h", Type: v1alpha1.HookRollback,
					HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "http://h"}}}},
			},
		}
		Expect(k8sClient.Create(ctx, c)).To(Succeed())

		got := &v1alpha1.Canary{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(c), got)).To(Succeed())
		s := got.Spec
		Expect(s.TargetRef.Kind).To(Equal("Deployment"))
		Expect(s.Service.PortName).To(Equal("http"))
		Expect(s.Service.TargetPort).To(Equal(ptr.To(intstr.FromString("http"))))
		Expect(s.ProgressDeadlineSeconds).To(Equal(int32(600)))
		Expect(s.DrainDelay).To(Equal(dur(10 * time.Second)))
		// Left empty, so that a template's values can apply; the operator
		// falls back to 1m, 2 and 5 (rollout.DefaultAnalysisInterval...).
		Expect(s.Analysis.Interval).To(BeNil())
		Expect(s.Analysis.FailureLimit).To(BeZero())
		Expect(s.Analysis.ErrorLimit).To(BeZero())
		Expect(s.Analysis.Provider.Type).To(Equal(v1alpha1.ProviderPrometheus))
		Expect(s.Analysis.Provider.Timeout).To(Equal(dur(10 * time.Second)))
		Expect(s.Analysis.Judge.Alpha).To(Equal(0.05))
		Expect(s.Analysis.Judge.Tolerance).To(Equal(1.0))
		Expect(s.Analysis.Judge.Mode).To(Equal(v1alpha1.JudgePerRequest))
		Expect(s.Hooks[0].Webhook.Timeout).To(Equal(dur(10 * time.Second)))
		Expect(s.Hooks[0].Webhook.Retries).To(Equal(ptr.To(int32(2))))
		Expect(s.Steps).To(Equal(c.Spec.Steps))
	})

	It("keeps retries: 0 on a webhook written by a Go client, rather than defaulting it to 2", func() {
		c := &v1alpha1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "no-retries", Namespace: namespace},
			Spec: v1alpha1.CanarySpec{
				TargetRef:      v1alpha1.TargetRef{Name: "podinfo"},
				Service:        v1alpha1.ServicePort{Port: 9898},
				TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
				Steps:          []v1alpha1.CanaryStep{weight(100)},
				Hooks: []v1alpha1.CanaryHook{{Name: "h", Type: v1alpha1.HookRollback,
					HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "http://h", Retries: ptr.To(int32(0))}}}},
			},
		}
		Expect(k8sClient.Create(ctx, c)).To(Succeed())

		got := &v1alpha1.Canary{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(c), got)).To(Succeed())
		Expect(got.Spec.Hooks[0].Webhook.Retries).To(Equal(ptr.To(int32(0))))
		Expect(got.Spec.Hooks[0].Webhook.Attempts()).To(Equal(int32(1)))
	})

	It("fills every defaulted field of a minimal BlueGreen", func() {
		b := &v1alpha1.BlueGreen{
			ObjectMeta: metav1.ObjectMeta{Name: "minimal", Namespace: namespace},
			Spec: v1alpha1.BlueGreenSpec{
				TargetRef: v1alpha1.TargetRef{Name: "orders"},
				Service:   v1alpha1.ServicePort{Port: 8080},
				PostPromotionAnalysis: &v1alpha1.PhaseAnalysis{Analysis: v1alpha1.Analysis{
					Provider: &v1alpha1.MetricProvider{Address: "http://prometheus:9090"},
					Judge:    &v1alpha1.Judge{Requests: `r{w="{{ .Workload }}"}`, Errors: `e{w="{{ .Workload }}"}`},
				}},
				Hooks: []v1alpha1.BlueGreenHook{{Name: "tests", Type: v1alpha1.HookPrePromotion,
					HookAction: v1alpha1.HookAction{Job: &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "t", Image: "busybox"}}}}}}}},
			},
		}
		Expect(k8sClient.Create(ctx, b)).To(Succeed())

		got := &v1alpha1.BlueGreen{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(b), got)).To(Succeed())
		s := got.Spec
		Expect(s.AutoPromotion).To(Equal(ptr.To(true)))
		Expect(s.ScaleDownDelay).To(Equal(dur(30 * time.Second)))
		Expect(s.ProgressDeadlineSeconds).To(Equal(int32(600)))
		Expect(s.PostPromotionAnalysis.Checks).To(Equal(int32(3)))
		Expect(s.PostPromotionAnalysis.Interval).To(BeNil())
		Expect(s.Hooks[0].Job.ActiveDeadlineSeconds).To(Equal(int64(600)))
	})
})

var _ = Describe("Text the Go types cannot express", func() {
	// A client other than Go (kubectl, Argo CD) can send any JSON; the API
	// server must still refuse it with a message naming the field.
	DescribeTable("is refused by the API server",
		func(path []string, value any, want string) {
			obj := &unstructured.Unstructured{}
			raw, err := yaml.Marshal(validCanary())
			Expect(err).NotTo(HaveOccurred())
			Expect(yaml.Unmarshal(raw, &obj.Object)).To(Succeed())
			obj.SetAPIVersion(v1alpha1.GroupVersion.String())
			obj.SetKind("Canary")
			Expect(unstructured.SetNestedField(obj.Object, value, path...)).To(Succeed())
			err = k8sClient.Create(ctx, obj)
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected an Invalid error, got %v", err)
			Expect(err.Error()).To(ContainSubstring(want))
		},
		Entry("an interval written in words",
			[]string{"spec", "analysis", "interval"}, "5 minutes", "spec.analysis.interval"),
		Entry("a webhook timeout with an unknown unit",
			[]string{"spec", "analysis", "provider", "timeout"}, "10d", "spec.analysis.provider.timeout"),
		Entry("a target name given as a number",
			[]string{"spec", "targetRef", "name"}, int64(7), "spec.targetRef.name"),
	)
})

var _ = Describe("Samples", func() {
	It("accepts every sample under config/samples", func() {
		root, err := apiserver.RepoRoot()
		Expect(err).NotTo(HaveOccurred())
		files, err := filepath.Glob(filepath.Join(root, "config", "samples", "rollouts_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		for _, f := range files {
			raw, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			obj := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal(raw, &obj.Object)).To(Succeed(), f)
			obj.SetNamespace(namespace)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed(), f)
		}
	})
})
