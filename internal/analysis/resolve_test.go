package analysis

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// preset is a template shaped like the shipped Istio preset.
func preset() *v1alpha1.AnalysisTemplateSpec {
	return &v1alpha1.AnalysisTemplateSpec{
		Args: []v1alpha1.AnalysisTemplateArg{
			{Name: "minSuccessRate", Type: v1alpha1.ArgNumber, Default: ptr.To("0.99")},
			{Name: "window", Type: v1alpha1.ArgDuration, Default: ptr.To("1m")},
			{Name: "mesh", Type: v1alpha1.ArgString},
		},
		Analysis: v1alpha1.Analysis{
			Interval: &metav1.Duration{Duration: 30 * time.Second},
			Provider: &v1alpha1.MetricProvider{Address: "http://prometheus.istio-system:9090"},
			Metrics: []v1alpha1.Metric{
				{Name: "success-rate", Query: `sr{w="{{ .Canary }}",mesh="$(args.mesh)"}[$(args.window)]`,
					ThresholdRange: v1alpha1.ThresholdRange{Min: ptr.To(0.99)}},
				{Name: "latency-p99", Query: `p99{w="{{ .Canary }}"} >= $(args.minSuccessRate)`,
					ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(500.0)}},
			},
			Judge: &v1alpha1.Judge{Requests: `r{w="{{ .Workload }}"}`, Errors: `e{w="{{ .Workload }}",mesh="$(args.mesh)"}`},
		},
	}
}

func ref(args ...string) *v1alpha1.Analysis {
	r := &v1alpha1.AnalysisTemplateRef{Kind: v1alpha1.KindClusterAnalysisTemplate, Name: "istio"}
	for i := 0; i+1 < len(args); i += 2 {
		r.Args = append(r.Args, v1alpha1.AnalysisArgValue{Name: args[i], Value: args[i+1]})
	}
	return &v1alpha1.Analysis{TemplateRef: r}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		own     *v1alpha1.Analysis
		tmpl    *v1alpha1.AnalysisTemplateSpec
		check   func(g Gomega, a *v1alpha1.Analysis)
		problem string
	}{
		{name: "return an analysis without templateRef as it is", own: &v1alpha1.Analysis{FailureLimit: 3}, tmpl: nil,
			check: func(g Gomega, a *v1alpha1.Analysis) { g.Expect(a.FailureLimit).To(Equal(int32(3))) }},
		{name: "fill the arguments given and the defaults into every query", own: ref("mesh", "east"), tmpl: preset(),
			check: func(g Gomega, a *v1alpha1.Analysis) {
				g.Expect(a.TemplateRef).To(BeNil())
				g.Expect(a.Metrics[0].Query).To(Equal(`sr{w="{{ .Canary }}",mesh="east"}[1m]`))
				g.Expect(a.Metrics[1].Query).To(Equal(`p99{w="{{ .Canary }}"} >= 0.99`))
				g.Expect(a.Judge.Errors).To(Equal(`e{w="{{ .Workload }}",mesh="east"}`))
				g.Expect(a.Interval.Duration).To(Equal(30 * time.Second))
			}},
		{name: "let a given value win over the default", own: ref("mesh", "east", "window", "5m"), tmpl: preset(),
			check: func(g Gomega, a *v1alpha1.Analysis) {
				g.Expect(a.Metrics[0].Query).To(ContainSubstring("[5m]"))
			}},
		{name: "let the release object's scalars, provider and judge override the template's",
			own: func() *v1alpha1.Analysis {
				a := ref("mesh", "east")
				a.Interval, a.FailureLimit = &metav1.Duration{Duration: time.Minute}, 4
				a.Provider = &v1alpha1.MetricProvider{Address: "http://thanos:9090"}
				a.Judge = &v1alpha1.Judge{Requests: `mine{w="{{ .Workload }}"}`, Errors: `mine_e{w="{{ .Workload }}"}`}
				return a
			}(), tmpl: preset(),
			check: func(g Gomega, a *v1alpha1.Analysis) {
				g.Expect(a.Interval.Duration).To(Equal(time.Minute))
				g.Expect(a.FailureLimit).To(Equal(int32(4)))
				g.Expect(a.Provider.Address).To(Equal("http://thanos:9090"))
				g.Expect(a.Judge.Requests).To(HavePrefix("mine{"))
			}},
		{name: "replace a template metric of the same name and add a new one after the template's",
			own: func() *v1alpha1.Analysis {
				a := ref("mesh", "east")
				a.Metrics = []v1alpha1.Metric{
					{Name: "latency-p99", Query: "mine", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(900.0)}},
					{Name: "queue-depth", Query: "depth[$(args.window)]", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(9.0)}},
				}
				return a
			}(), tmpl: preset(),
			check: func(g Gomega, a *v1alpha1.Analysis) {
				g.Expect(a.Metrics).To(HaveLen(3))
				g.Expect(a.Metrics[1].Query).To(Equal("mine"))
				g.Expect(*a.Metrics[1].ThresholdRange.Max).To(Equal(900.0))
				g.Expect(a.Metrics[2].Query).To(Equal("depth[1m]"), "a local metric uses the template's arguments too")
			}},
		{name: "refuse a template that does not exist", own: ref("mesh", "east"), tmpl: nil,
			problem: "ClusterAnalysisTemplate/istio not found"},
		{name: "refuse a missing argument that has no default", own: ref(), tmpl: preset(),
			problem: `needs argument "mesh" (String)`},
		{name: "refuse an argument the template does not declare", own: ref("mesh", "east", "meshh", "x"), tmpl: preset(),
			problem: "has no argument meshh (it declares: minSuccessRate, window, mesh)"},
		{name: "refuse a Number that is not a number", own: ref("mesh", "east", "minSuccessRate", "99%"), tmpl: preset(),
			problem: `value "99%" is not a Number`},
		{name: "refuse a Duration that is not a PromQL duration", own: ref("mesh", "east", "window", "1 minute"), tmpl: preset(),
			problem: `value "1 minute" is not a Duration`},
		{name: "refuse a String that would break out of a label matcher", own: ref("mesh", `east"} or vector(1) #`), tmpl: preset(),
			problem: "holds a quote"},
		{name: "refuse a query that uses an argument nobody declared",
			own: func() *v1alpha1.Analysis {
				a := ref("mesh", "east")
				a.Metrics = []v1alpha1.Metric{{Name: "x", Query: "q[$(args.windw)]", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(1.0)}}}
				return a
			}(), tmpl: preset(),
			problem: "a query uses $(args.windw), which ClusterAnalysisTemplate/istio does not declare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			var before *v1alpha1.AnalysisTemplateSpec
			if tt.tmpl != nil {
				before = tt.tmpl.DeepCopy()
			}
			got, err := Resolve(tt.own, tt.tmpl)
			if tt.problem != "" {
				var te *TemplateError
				g.Expect(errors.As(err, &te)).To(BeTrue(), "got %v", err)
				g.Expect(err.Error()).To(ContainSubstring(tt.problem))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			tt.check(g, got)
			if tt.tmpl != nil {
				g.Expect(tt.tmpl).To(Equal(before), "the template must not change")
			}
		})
	}
}

func TestPins(t *testing.T) {
	own := ref("mesh", "east")
	resolved, err := Resolve(own, preset())
	if err != nil {
		t.Fatal(err)
	}
	fresh := Pin("analysis", own, resolved, 7)

	t.Run("stamp a pin just resolved with the revision that starts", func(t *testing.T) {
		g := NewWithT(t)
		pins := PinsAt([]v1alpha1.PinnedAnalysis{fresh}, "abc")
		g.Expect(pins).To(HaveLen(1))
		g.Expect(pins[0].Revision).To(Equal("abc"))
		g.Expect(pins[0].Template).To(Equal("ClusterAnalysisTemplate/istio"))
		g.Expect(pins[0].TemplateGeneration).To(Equal(int64(7)))
		g.Expect(pins[0].Digest).To(Equal(Digest(resolved)))
	})
	t.Run("pin nothing while no release is in flight", func(t *testing.T) {
		NewWithT(t).Expect(PinsAt([]v1alpha1.PinnedAnalysis{fresh}, "")).To(BeEmpty())
	})
	t.Run("drop the pin of a revision that was replaced", func(t *testing.T) {
		NewWithT(t).Expect(PinsAt(PinsAt([]v1alpha1.PinnedAnalysis{fresh}, "abc"), "def")).To(BeEmpty())
	})
	t.Run("run the pin of the revision in flight whatever the template says now", func(t *testing.T) {
		g := NewWithT(t)
		pins := PinsAt([]v1alpha1.PinnedAnalysis{fresh}, "abc")
		p := PinFor(pins, "analysis", "abc", ref("mesh", "east"))
		g.Expect(p).NotTo(BeNil())
		g.Expect(p.Analysis.Metrics[0].Query).To(ContainSubstring(`mesh="east"`))
	})
	t.Run("resolve again when the release object's reference changed", func(t *testing.T) {
		pins := PinsAt([]v1alpha1.PinnedAnalysis{fresh}, "abc")
		NewWithT(t).Expect(PinFor(pins, "analysis", "abc", ref("mesh", "west"))).To(BeNil())
	})
	t.Run("resolve again for another revision or another field", func(t *testing.T) {
		g := NewWithT(t)
		pins := PinsAt([]v1alpha1.PinnedAnalysis{fresh}, "abc")
		g.Expect(PinFor(pins, "analysis", "def", own)).To(BeNil())
		g.Expect(PinFor(pins, "prePromotionAnalysis", "abc", own)).To(BeNil())
	})
}

func TestMissingProvider(t *testing.T) {
	g := NewWithT(t)
	metric := v1alpha1.Metric{Name: "m", Query: "q"}
	g.Expect(MissingProvider(&v1alpha1.Analysis{Metrics: []v1alpha1.Metric{metric}})).To(Equal("metrics[0] (m)"))
	g.Expect(MissingProvider(&v1alpha1.Analysis{Judge: &v1alpha1.Judge{}})).To(Equal("judge"))
	g.Expect(MissingProvider(&v1alpha1.Analysis{Provider: &v1alpha1.MetricProvider{}, Metrics: []v1alpha1.Metric{metric}})).To(BeEmpty())
	metric.Provider = &v1alpha1.MetricProvider{}
	g.Expect(MissingProvider(&v1alpha1.Analysis{Metrics: []v1alpha1.Metric{metric}})).To(BeEmpty())
}
