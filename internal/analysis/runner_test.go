package analysis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
)

// answers is a Provider that answers from a table, for the runner's pure
// logic; the real provider is tested against a real Prometheus.
type answers map[string]float64

func (a answers) Query(_ context.Context, q string) (float64, error) {
	if strings.Contains(q, "down") {
		return 0, analysis.ProviderErrorf("connection refused")
	}
	v, ok := a[q]
	if !ok {
		return 0, analysis.NoDataf("query %q matched no series", q)
	}
	return v, nil
}

func runnerFor(a answers) *analysis.Runner {
	return &analysis.Runner{Providers: analysis.Registry{
		v1alpha1.ProviderPrometheus: func(v1alpha1.MetricProvider, analysis.Credentials) (analysis.Provider, error) { return a, nil },
	}}
}

var (
	now       = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	workloads = analysis.Workloads{Namespace: "shop", Name: "podinfo", Canary: "podinfo", Primary: "podinfo-primary"}
)

func spec() *v1alpha1.Analysis {
	return &v1alpha1.Analysis{
		Provider: &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "http://prom:9090"},
		Metrics: []v1alpha1.Metric{{
			Name: "error-rate", Query: `errors{w="{{ .Canary }}"}[{{ .Interval }}]`,
			ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)},
		}},
	}
}

func TestRunnerEvaluatesEveryMetricWithItsTemplateFilled(t *testing.T) {
	g := NewWithT(t)
	out := runnerFor(answers{`errors{w="podinfo"}[1m]`: 0.002}).Run(context.Background(), spec(), workloads, nil, now)
	g.Expect(out.Results).To(HaveLen(1))
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomePassed))
	g.Expect(out.Judge).To(BeNil())
}

func TestRunnerHoldsEveryMetricWhenTheSampleIsTooSmall(t *testing.T) {
	g := NewWithT(t)
	a := spec()
	a.MinSampleRequests, a.SampleQuery = 200, `requests{w="{{ .Canary }}"}`
	out := runnerFor(answers{`requests{w="podinfo"}`: 120, `errors{w="podinfo"}[1m]`: 0.5}).Run(context.Background(), a, workloads, nil, now)
	g.Expect(out.Results).To(HaveLen(2))
	for _, r := range out.Results {
		g.Expect(r.Outcome).To(Equal(v1alpha1.OutcomeNoData), "a failing value in a tiny sample must not count")
	}
	g.Expect(out.Results[1].Message).To(ContainSubstring("120 requests"))
}

func TestRunnerChecksMetricsOnceTheSampleIsLargeEnough(t *testing.T) {
	g := NewWithT(t)
	a := spec()
	a.MinSampleRequests, a.SampleQuery = 200, `requests{w="{{ .Canary }}"}`
	out := runnerFor(answers{`requests{w="podinfo"}`: 250, `errors{w="podinfo"}[1m]`: 0.5}).Run(context.Background(), a, workloads, nil, now)
	g.Expect(out.Results).To(HaveLen(1))
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomeFailed))
}

func TestRunnerReportsAnUnreachableProviderAsAnErrorNotAFailure(t *testing.T) {
	g := NewWithT(t)
	a := spec()
	a.Metrics[0].Query = "down"
	out := runnerFor(answers{}).Run(context.Background(), a, workloads, nil, now)
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomeError))
}

func judgeSpec() *v1alpha1.Analysis {
	a := spec()
	a.Metrics = nil
	a.Judge = &v1alpha1.Judge{Requests: `req{w="{{ .Workload }}"}`, Errors: `err{w="{{ .Workload }}"}`, Alpha: 0.05, Tolerance: 1}
	return a
}

func TestRunnerFeedsTheJudgeBothVersionsCounters(t *testing.T) {
	g := NewWithT(t)
	a := judgeSpec()
	table := answers{`req{w="podinfo"}`: 100, `err{w="podinfo"}`: 1, `req{w="podinfo-primary"}`: 900, `err{w="podinfo-primary"}`: 9}
	first := runnerFor(table).Run(context.Background(), a, workloads, nil, now)
	g.Expect(first.Results).To(HaveLen(1))
	g.Expect(first.Results[0].Name).To(Equal(analysis.ResultJudge))
	g.Expect(first.Results[0].Outcome).To(Equal(v1alpha1.OutcomeNoData), "a baseline compares nothing")
	g.Expect(first.Judge.Fingerprint).To(Equal(v1alpha1.JudgeFingerprint(a.Judge, a.Provider)))
	g.Expect(first.Judge.Series).To(HaveLen(4))

	table = answers{`req{w="podinfo"}`: 160, `err{w="podinfo"}`: 2, `req{w="podinfo-primary"}`: 1500, `err{w="podinfo-primary"}`: 15}
	second := runnerFor(table).Run(context.Background(), a, workloads, first.Judge, now.Add(time.Minute))
	g.Expect(second.Results[0].Outcome).To(Equal(v1alpha1.OutcomePassed))
	g.Expect(second.Judge.Metrics[0].Canary).To(Equal(v1alpha1.CounterSample{Requests: 60, Events: 1}))
	g.Expect(second.Judge.Metrics[0].Primary).To(Equal(v1alpha1.CounterSample{Requests: 600, Events: 6}))
}

func TestRunnerReportsNoDataWhenTheJudgesQueriesMatchNothing(t *testing.T) {
	g := NewWithT(t)
	a := judgeSpec()
	first := runnerFor(answers{}).Run(context.Background(), a, workloads, nil, now)
	second := runnerFor(answers{}).Run(context.Background(), a, workloads, first.Judge, now.Add(time.Minute))
	g.Expect(second.Results).To(HaveLen(1))
	g.Expect(second.Results[0].Outcome).To(Equal(v1alpha1.OutcomeNoData), "no data never passes")
	g.Expect(second.Results[0].Message).To(ContainSubstring("no new requests"))
	g.Expect(second.Judge.Decision).To(Equal(v1alpha1.JudgeContinue))
}

func TestRunnerKeepsTheJudgesEvidenceWhenACounterCannotBeRead(t *testing.T) {
	g := NewWithT(t)
	a := spec()
	a.Metrics = nil
	a.Judge = &v1alpha1.Judge{Requests: `req{w="{{ .Workload }}"} down`, Errors: `err`, Alpha: 0.05, Tolerance: 1}
	prev := &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeContinue, Summary: "before",
		Fingerprint: v1alpha1.JudgeFingerprint(a.Judge, a.Provider)}
	out := runnerFor(answers{}).Run(context.Background(), a, workloads, prev, now)
	g.Expect(out.Judge).To(Equal(prev))
	g.Expect(out.Results).To(HaveLen(1))
	g.Expect(out.Results[0].Name).To(Equal(analysis.ResultJudge))
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomeError))
}

func TestRunnerStartsTheJudgeAfreshWhenItsSpecChanged(t *testing.T) {
	table := answers{`req{w="podinfo"}`: 100, `err{w="podinfo"}`: 1, `req{w="podinfo-primary"}`: 900, `err{w="podinfo-primary"}`: 9}
	for name, edit := range map[string]func(*v1alpha1.Judge){
		"mode":      func(j *v1alpha1.Judge) { j.Mode = v1alpha1.JudgePerInterval },
		"tolerance": func(j *v1alpha1.Judge) { j.Tolerance = 1.5 },
		"query":     func(j *v1alpha1.Judge) { j.Errors = `err5xx{w="{{ .Workload }}"}` },
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			a := judgeSpec()
			old := runnerFor(table).Run(context.Background(), a, workloads, nil, now)
			old = runnerFor(table).Run(context.Background(), a, workloads, old.Judge, now.Add(time.Minute))
			old.Judge.Metrics[0].LogRollback = []float64{1, 2, 3, 4, 5, 6, 7, 8}
			edit(a.Judge)
			out := runnerFor(table).Run(context.Background(), a, workloads, old.Judge, now.Add(2*time.Minute))
			g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomeNoData), "a fresh judge takes a baseline, no error")
			g.Expect(out.Judge.Fingerprint).To(Equal(v1alpha1.JudgeFingerprint(a.Judge, a.Provider)))
			g.Expect(out.Judge.Metrics[0].LogRollback).To(BeEmpty(), "no evidence of the old spec")
		})
	}
}

func TestRunnerBuildsEachProviderOncePerCheck(t *testing.T) {
	g := NewWithT(t)
	built := 0
	r := &analysis.Runner{Providers: analysis.Registry{
		v1alpha1.ProviderPrometheus: func(v1alpha1.MetricProvider, analysis.Credentials) (analysis.Provider, error) {
			built++
			return answers{}, nil
		},
	}}
	a := spec()
	a.Metrics = append(a.Metrics, v1alpha1.Metric{Name: "latency", Query: "q", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(1.0)}})
	a.Judge = &v1alpha1.Judge{Requests: "r", Errors: "e", Alpha: 0.05, Tolerance: 1}
	r.Run(context.Background(), a, workloads, nil, now)
	g.Expect(built).To(Equal(1), "two metrics and four judge queries share one provider")
	r.Run(context.Background(), a, workloads, nil, now)
	g.Expect(built).To(Equal(2), "a new check builds it again, so a changed Secret is read")
}
