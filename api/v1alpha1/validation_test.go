package v1alpha1_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// validCanary is the smallest Canary with every feature the cases below
// break one at a time.
func validCanary() *v1alpha1.Canary {
	return &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "canary-", Namespace: namespace},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Name: "podinfo"},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps: []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](1)},
				{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: time.Minute}}},
				{SetWeight: ptr.To[int32](10)},
				{Pause: &v1alpha1.Pause{}},
				{SetWeight: ptr.To[int32](50)},
			},
			Analysis: &v1alpha1.Analysis{
				Provider: &v1alpha1.MetricProvider{Address: "http://prometheus.istio-system:9090"},
				Metrics: []v1alpha1.Metric{{
					Name:           "error-rate",
					Query:          `sum(rate(errors{workload="{{ .Canary }}"}[1m]))`,
					ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)},
				}},
				Judge: &v1alpha1.Judge{Requests: `sum(requests{w="{{ .Workload }}"})`, Errors: `sum(errors{w="{{ .Workload }}"})`},
			},
			Hooks: []v1alpha1.CanaryHook{{
				Name: "smoke", Type: v1alpha1.HookPreRollout,
				HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "http://tester.shop:8080/smoke"}},
			}},
		},
	}
}

func validBlueGreen() *v1alpha1.BlueGreen {
	return &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "bluegreen-", Namespace: namespace},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef: v1alpha1.TargetRef{Name: "orders"},
			Service:   v1alpha1.ServicePort{Port: 8080},
			PrePromotionAnalysis: &v1alpha1.PhaseAnalysis{Analysis: v1alpha1.Analysis{
				Provider: &v1alpha1.MetricProvider{Address: "http://prometheus:9090"},
				Metrics: []v1alpha1.Metric{{
					Name: "error-rate", Query: "sum(x)", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)},
				}},
			}},
			Hooks: []v1alpha1.BlueGreenHook{{
				Name: "tests", Type: v1alpha1.HookPrePromotion,
				HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "http://tester:8080/run"}},
			}},
		},
	}
}

func weight(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: ptr.To(w)} }

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

var _ = Describe("Canary validation", func() {
	It("accepts the valid Canary the cases start from", func() {
		Expect(k8sClient.Create(ctx, validCanary())).To(Succeed())
	})

	It("accepts edge values: weights 0 and 100, an untimed pause, both threshold bounds equal", func() {
		c := validCanary()
		c.Spec.Steps = []v1alpha1.CanaryStep{weight(0), {Pause: &v1alpha1.Pause{}}, weight(100)}
		c.Spec.Analysis.Metrics[0].ThresholdRange = v1alpha1.ThresholdRange{Min: ptr.To(0.5), Max: ptr.To(0.5)}
		Expect(k8sClient.Create(ctx, c)).To(Succeed())
	})

	DescribeTable("refuses an invalid Canary with a message that names what to fix",
		func(mutate func(c *v1alpha1.Canary), want ...string) {
			c := validCanary()
			mutate(c)
			err := k8sClient.Create(ctx, c)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid Canary")
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected an Invalid error, got %v", err)
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a missing target name",
			func(c *v1alpha1.Canary) { c.Spec.TargetRef.Name = "" },
			"spec.targetRef.name"),
		Entry("a target kind other than Deployment",
			func(c *v1alpha1.Canary) { c.Spec.TargetRef.Kind = "StatefulSet" },
			"spec.targetRef.kind", `supported values: "Deployment"`),
		Entry("a target name that is not a DNS label",
			func(c *v1alpha1.Canary) { c.Spec.TargetRef.Name = "Pod_Info" },
			"spec.targetRef.name", "should match"),
		Entry("a target name too long to derive <name>-primary from",
			func(c *v1alpha1.Canary) {
				c.Spec.TargetRef.Name = "a234567890123456789012345678901234567890123456789012345"
			},
			"spec.targetRef.name", "must be at most 52 characters: Sluice derives names"),
		Entry("a drain delay over an hour",
			func(c *v1alpha1.Canary) { c.Spec.DrainDelay = dur(2 * time.Hour) },
			"spec.drainDelay", "drainDelay must be between 0s and 1h"),
		Entry("a service port of 0",
			func(c *v1alpha1.Canary) { c.Spec.Service.Port = 0 },
			"spec.service.port", "greater than or equal to 1"),
		Entry("a service port above 65535",
			func(c *v1alpha1.Canary) { c.Spec.Service.Port = 70000 },
			"spec.service.port", "less than or equal to 65535"),
		Entry("two traffic routers",
			func(c *v1alpha1.Canary) {
				c.Spec.TrafficRouting.GatewayAPI = &v1alpha1.GatewayAPIRouting{HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{Name: "podinfo"}}
			},
			"spec.trafficRouting", "set exactly one traffic router: istio or gatewayAPI"),
		Entry("an HTTPRoute with neither a name nor parentRefs",
			func(c *v1alpha1.Canary) {
				c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{}}
			},
			"spec.trafficRouting.gatewayAPI.httpRoute", "set exactly one of httpRoute.name"),
		Entry("an HTTPRoute with both a name and parentRefs",
			func(c *v1alpha1.Canary) {
				c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{
					Name: "podinfo", ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public"}}}}}
			},
			"spec.trafficRouting.gatewayAPI.httpRoute", "set exactly one of httpRoute.name"),
		Entry("rules on a generated HTTPRoute",
			func(c *v1alpha1.Canary) {
				c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{
					Rules: []string{"main"}, ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public"}}}}}
			},
			"spec.trafficRouting.gatewayAPI.httpRoute", "rules pick the rules Sluice manages"),
		Entry("hostnames on a named HTTPRoute",
			func(c *v1alpha1.Canary) {
				c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{
					Name: "podinfo", Hostnames: []string{"shop.example.com"}}}}
			},
			"spec.trafficRouting.gatewayAPI.httpRoute", "hostnames describe an HTTPRoute Sluice generates"),
		Entry("a parent that is neither a Gateway nor a Service",
			func(c *v1alpha1.Canary) {
				c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{
					ParentRefs: []v1alpha1.GatewayParentRef{{Kind: "Ingress", Name: "public"}}}}}
			},
			"spec.trafficRouting.gatewayAPI.httpRoute.parentRefs[0].kind", "supported values"),
		Entry("no traffic router",
			func(c *v1alpha1.Canary) { c.Spec.TrafficRouting = v1alpha1.TrafficRouting{} },
			"spec.trafficRouting", "set exactly one traffic router"),
		Entry("a VirtualService name that is not a DNS name",
			func(c *v1alpha1.Canary) { c.Spec.TrafficRouting.Istio.VirtualService.Name = "Pod Info" },
			"spec.trafficRouting.istio.virtualService.name"),
		Entry("no steps",
			func(c *v1alpha1.Canary) { c.Spec.Steps = nil },
			"spec.steps"),
		Entry("only pauses and no weight",
			func(c *v1alpha1.Canary) {
				c.Spec.Steps = []v1alpha1.CanaryStep{{Pause: &v1alpha1.Pause{}}}
			},
			"spec", "steps need at least one setWeight step"),
		Entry("a weight above 100",
			func(c *v1alpha1.Canary) { c.Spec.Steps = []v1alpha1.CanaryStep{weight(10), weight(101)} },
			"spec.steps[1].setWeight", "less than or equal to 100"),
		Entry("a negative weight",
			func(c *v1alpha1.Canary) { c.Spec.Steps = []v1alpha1.CanaryStep{weight(-1)} },
			"spec.steps[0].setWeight", "greater than or equal to 0"),
		Entry("a step with both a weight and a pause",
			func(c *v1alpha1.Canary) {
				c.Spec.Steps[0].Pause = &v1alpha1.Pause{}
			},
			"spec.steps[0]", "each step sets exactly one of setWeight or pause"),
		Entry("an empty step",
			func(c *v1alpha1.Canary) { c.Spec.Steps[1] = v1alpha1.CanaryStep{} },
			"spec.steps[1]", "each step sets exactly one of setWeight or pause"),
		Entry("weights that go down",
			func(c *v1alpha1.Canary) { c.Spec.Steps = []v1alpha1.CanaryStep{weight(50), weight(10)} },
			"spec", "setWeight values must strictly increase from step to step: steps[1].setWeight is 10, not above the 50 of an earlier step; set it above 50 or remove steps[1]"),
		Entry("a weight repeated",
			func(c *v1alpha1.Canary) { c.Spec.Steps = []v1alpha1.CanaryStep{weight(10), weight(10), weight(20)} },
			"spec", "steps[1].setWeight is 10, not above the 10 of an earlier step"),
		Entry("a pause of zero",
			func(c *v1alpha1.Canary) { c.Spec.Steps[1].Pause.Duration = dur(0) },
			"spec.steps[1].pause.duration", "pause duration must be a duration between 1s and 24h"),
		Entry("a pause longer than a day",
			func(c *v1alpha1.Canary) { c.Spec.Steps[1].Pause.Duration = dur(25 * time.Hour) },
			"spec.steps[1].pause.duration", "pause duration must be a duration between 1s and 24h"),
		Entry("an analysis interval under 5s",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Interval = dur(time.Second) },
			"spec.analysis.interval", "interval must be a duration between 5s and 1h"),
		Entry("an analysis interval over an hour",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Interval = dur(2 * time.Hour) },
			"spec.analysis.interval", "interval must be a duration between 5s and 1h"),
		Entry("a negative failure limit",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.FailureLimit = -1 },
			"spec.analysis.failureLimit", "greater than or equal to 1"),
		Entry("a threshold range whose min is above its max",
			func(c *v1alpha1.Canary) {
				c.Spec.Analysis.Metrics[0].ThresholdRange = v1alpha1.ThresholdRange{Min: ptr.To(0.2), Max: ptr.To(0.1)}
			},
			"spec.analysis.metrics[0].thresholdRange", "thresholdRange.min must not be greater than thresholdRange.max"),
		Entry("a threshold range with no bound",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Metrics[0].ThresholdRange = v1alpha1.ThresholdRange{} },
			"spec.analysis.metrics[0].thresholdRange", "thresholdRange needs min, max or both"),
		Entry("a metric name that is not a DNS label",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Metrics[0].Name = "Error Rate" },
			"spec.analysis.metrics[0].name", "should match"),
		Entry("two metrics with one name",
			func(c *v1alpha1.Canary) {
				c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, c.Spec.Analysis.Metrics[0])
			},
			"spec.analysis.metrics[1]", "Duplicate value"),
		Entry("a metric with an empty query",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Metrics[0].Query = "" },
			"spec.analysis.metrics[0].query"),
		Entry("an unknown provider type",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Provider.Type = "datadog" },
			"spec.analysis.provider.type", `supported values: "prometheus"`),
		Entry("a provider address that is not an http URL",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Provider.Address = "prometheus:9090" },
			"spec.analysis.provider.address", "address must be an http:// or https:// URL"),
		Entry("a provider timeout of a millisecond",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Provider.Timeout = dur(time.Millisecond) },
			"spec.analysis.provider.timeout", "timeout must be a duration between 100ms and 5m"),
		Entry("a judge alpha of 0",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Judge.Alpha = -0.1 },
			"spec.analysis.judge.alpha", "greater than 0"),
		Entry("a judge alpha above 0.5",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Judge.Alpha = 0.6 },
			"spec.analysis.judge.alpha", "alpha must be greater than 0 and at most 0.5"),
		Entry("a judge tolerance below 1",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Judge.Tolerance = 0.5 },
			"spec.analysis.judge.tolerance", "tolerance must be from 1"),
		Entry("an unknown judge mode",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Judge.Mode = "Bayesian" },
			"spec.analysis.judge.mode", `supported values: "PerRequest", "PerInterval"`),
		Entry("a minimum sample without a sample query",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.MinSampleRequests = 200 },
			"spec.analysis", "minSampleRequests needs sampleQuery"),
		Entry("an analysis with neither metrics nor judge",
			func(c *v1alpha1.Canary) { c.Spec.Analysis.Metrics, c.Spec.Analysis.Judge = nil, nil },
			"spec.analysis", "analysis needs a templateRef, at least one metric or a judge"),
		Entry("a progress deadline under 30 seconds",
			func(c *v1alpha1.Canary) { c.Spec.ProgressDeadlineSeconds = 5 },
			"spec.progressDeadlineSeconds", "greater than or equal to 30"),
		Entry("a hook that is both a webhook and a job",
			func(c *v1alpha1.Canary) {
				c.Spec.Hooks[0].Job = &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "t", Image: "busybox"}}}}}
			},
			"spec.hooks[0]", "a hook runs exactly one of webhook or job"),
		Entry("a hook of an unknown type",
			func(c *v1alpha1.Canary) { c.Spec.Hooks[0].Type = "pre-promotion" },
			"spec.hooks[0].type", `supported values: "pre-rollout"`),
		Entry("a rollout hook, which never ran and is no longer accepted",
			func(c *v1alpha1.Canary) { c.Spec.Hooks[0].Type = "rollout" },
			"spec.hooks[0].type", `supported values: "pre-rollout", "confirm-promotion", "post-rollout", "rollback"`),
		Entry("a webhook URL that is not an http URL",
			func(c *v1alpha1.Canary) { c.Spec.Hooks[0].Webhook.URL = "tester.shop/smoke" },
			"spec.hooks[0].webhook.url", "webhook url must be an http:// or https:// URL"),
		Entry("two hooks with one name",
			func(c *v1alpha1.Canary) { c.Spec.Hooks = append(c.Spec.Hooks, c.Spec.Hooks[0]) },
			"spec.hooks[1]", "Duplicate value"),
	)
})

var _ = Describe("BlueGreen validation", func() {
	It("accepts the valid BlueGreen the cases start from", func() {
		Expect(k8sClient.Create(ctx, validBlueGreen())).To(Succeed())
	})

	DescribeTable("refuses an invalid BlueGreen with a message that names what to fix",
		func(mutate func(b *v1alpha1.BlueGreen), want ...string) {
			b := validBlueGreen()
			mutate(b)
			err := k8sClient.Create(ctx, b)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid BlueGreen")
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected an Invalid error, got %v", err)
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a missing target name",
			func(b *v1alpha1.BlueGreen) { b.Spec.TargetRef.Name = "" },
			"spec.targetRef.name"),
		Entry("a scale-down delay over a week",
			func(b *v1alpha1.BlueGreen) { b.Spec.ScaleDownDelay = dur(200 * time.Hour) },
			"spec.scaleDownDelay", "scaleDownDelay must be a duration between 0s and 168h"),
		Entry("autoPromotionSeconds with autoPromotion left on",
			func(b *v1alpha1.BlueGreen) { b.Spec.AutoPromotionSeconds = ptr.To[int32](60) },
			"spec", "autoPromotionSeconds applies only with autoPromotion: false"),
		Entry("negative autoPromotionSeconds",
			func(b *v1alpha1.BlueGreen) {
				b.Spec.AutoPromotion = ptr.To(false)
				b.Spec.AutoPromotionSeconds = ptr.To[int32](-1)
			},
			"spec.autoPromotionSeconds", "greater than or equal to 0"),
		Entry("a Canary-only hook type",
			func(b *v1alpha1.BlueGreen) { b.Spec.Hooks[0].Type = "pre-rollout" },
			"spec.hooks[0].type", `supported values: "pre-promotion", "post-promotion", "rollback"`),
		Entry("pre-promotion analysis needing zero checks",
			func(b *v1alpha1.BlueGreen) { b.Spec.PrePromotionAnalysis.Checks = -3 },
			"spec.prePromotionAnalysis.checks", "greater than or equal to 1"),
		Entry("pre-promotion analysis with a threshold range upside down",
			func(b *v1alpha1.BlueGreen) {
				b.Spec.PrePromotionAnalysis.Metrics[0].ThresholdRange = v1alpha1.ThresholdRange{Min: ptr.To(2.0), Max: ptr.To(1.0)}
			},
			"spec.prePromotionAnalysis.metrics[0].thresholdRange", "thresholdRange.min must not be greater"),
		Entry("post-promotion analysis from a template of an unknown kind",
			func(b *v1alpha1.BlueGreen) {
				b.Spec.PostPromotionAnalysis = &v1alpha1.PhaseAnalysis{Analysis: v1alpha1.Analysis{
					TemplateRef: &v1alpha1.AnalysisTemplateRef{Kind: "MetricTemplate", Name: "istio"},
				}}
			},
			"spec.postPromotionAnalysis.templateRef.kind", `supported values: "AnalysisTemplate", "ClusterAnalysisTemplate"`),
		Entry("a job hook allowed to run longer than a day",
			func(b *v1alpha1.BlueGreen) {
				b.Spec.Hooks[0].Webhook = nil
				b.Spec.Hooks[0].Job = &v1alpha1.JobHook{ActiveDeadlineSeconds: 100000}
			},
			"spec.hooks[0].job.activeDeadlineSeconds", "less than or equal to 86400"),
	)
})
