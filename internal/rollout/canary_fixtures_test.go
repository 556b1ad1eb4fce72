package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// t0 is the start of every test's clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func stamp(d time.Duration) *metav1.Time {
	t := metav1.NewTime(at(d))
	return &t
}

func weightStep(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: &w} }

// pauseStep is a timed pause, or an untimed one for d == 0.
func pauseStep(d time.Duration) v1alpha1.CanaryStep {
	p := &v1alpha1.Pause{}
	if d > 0 {
		p.Duration = &metav1.Duration{Duration: d}
	}
	return v1alpha1.CanaryStep{Pause: p}
}

func canarySpec(steps ...v1alpha1.CanaryStep) v1alpha1.CanarySpec {
	return v1alpha1.CanarySpec{
		TargetRef:               v1alpha1.TargetRef{Kind: "Deployment", Name: "podinfo"},
		Service:                 v1alpha1.ServicePort{Port: 9898},
		TrafficRouting:          v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
		Steps:                   steps,
		ProgressDeadlineSeconds: 600,
	}
}

// analysed adds an analysis: one metric, a 1m interval, failureLimit 2,
// errorLimit 3.
func analysed(spec v1alpha1.CanarySpec) v1alpha1.CanarySpec {
	spec.Analysis = &v1alpha1.Analysis{
		Interval:     &metav1.Duration{Duration: time.Minute},
		FailureLimit: 2,
		ErrorLimit:   3,
		Provider:     &v1alpha1.MetricProvider{Address: "http://prometheus:9090"},
		Metrics: []v1alpha1.Metric{{Name: "error-rate", Query: "q",
			ThresholdRange: v1alpha1.ThresholdRange{Max: ptrTo(0.01)}}},
	}
	return spec
}

// judged adds a judge to an analysed spec.
func judged(spec v1alpha1.CanarySpec, promoteOnEvidence bool) v1alpha1.CanarySpec {
	a := spec.Analysis.DeepCopy()
	a.Judge = &v1alpha1.Judge{Requests: "r", Errors: "e", PromoteOnEvidence: promoteOnEvidence}
	spec.Analysis = a
	return spec
}

// judgeStatus is a judge state with decision d gathered under a's judge spec.
func judgeStatus(a *v1alpha1.Analysis, d v1alpha1.JudgeDecision) *v1alpha1.JudgeStatus {
	return &v1alpha1.JudgeStatus{Decision: d, Fingerprint: v1alpha1.JudgeFingerprint(a.Judge, a.Provider)}
}

func withHooks(spec v1alpha1.CanarySpec, hooks ...v1alpha1.CanaryHook) v1alpha1.CanarySpec {
	spec.Hooks = hooks
	return spec
}

func hook(name string, typ v1alpha1.CanaryHookType) v1alpha1.CanaryHook {
	return v1alpha1.CanaryHook{Name: name, Type: typ,
		HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "http://hooks/" + name}}}
}

func hookRun(name string, typ v1alpha1.CanaryHookType, rev string, phase v1alpha1.HookPhase) v1alpha1.HookStatus {
	return v1alpha1.HookStatus{Name: name, Type: string(typ), Revision: rev, Phase: phase, Message: "answer"}
}

// running is a run of hook name for v2 that Next started at t0+d.
func running(name string, typ v1alpha1.CanaryHookType, d time.Duration) v1alpha1.HookStatus {
	return v1alpha1.HookStatus{Name: name, Type: string(typ), Revision: "v2", Phase: v1alpha1.HookRunning,
		StartedAt: stamp(d)}
}

func ptrTo[T any](v T) *T { return &v }

// deployment is a Deployment running rev with n of n pods ready.
func deployment(rev string, n int32) WorkloadState {
	return WorkloadState{Exists: true, Revision: rev, DesiredReplicas: n, ReadyReplicas: n}
}

// observed is a healthy world at t0+d: the target at v2 with its 3 pods
// ready, the primary at v1 with 3 ready, the route at weight w.
func observed(d time.Duration, w int32) CanaryObserved {
	return CanaryObserved{
		Now: at(d), Generation: 1,
		Target:  deployment("v2", 3),
		Primary: deployment("v1", 3),
		Route:   RouteState{Exists: true, CanaryWeight: w},
	}
}

// stable is the status of a Canary whose revision v1 is stable.
func stable() v1alpha1.CanaryStatus {
	return v1alpha1.CanaryStatus{StableRevision: "v1", ObservedGeneration: 1}
}

// releasing is the status of a release of v2 started at t0, at step i, whose
// clock started at t0+clock (nil for a negative clock).
func releasing(step int32, clock time.Duration) v1alpha1.CanaryStatus {
	st := stable()
	st.CanaryRevision = "v2"
	st.ReleaseStartedAt = stamp(0)
	st.CurrentStep = step
	if clock >= 0 {
		st.StepStartedAt = stamp(clock)
	}
	return st
}

func checked(st v1alpha1.CanaryStatus, a v1alpha1.AnalysisStatus) v1alpha1.CanaryStatus {
	st.Analysis = &a
	return st
}

func result(outcome v1alpha1.MetricOutcome, d time.Duration) v1alpha1.MetricResult {
	return v1alpha1.MetricResult{Name: "error-rate", Outcome: outcome, Value: "0.001", Time: metav1.NewTime(at(d))}
}

func check(outcomes ...v1alpha1.MetricOutcome) *Check {
	c := &Check{}
	for i, o := range outcomes {
		r := result(o, 0)
		r.Name = []string{"error-rate", "latency", "saturation"}[i]
		c.Results = append(c.Results, r)
	}
	return c
}

func condition(st v1alpha1.CanaryStatus, typ string) metav1.Condition {
	return conditionIn(st.Conditions, typ)
}

func eventReasons(events []Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

// expectReplaySafe asserts the restart property of a Canary decision (see
// expectReplaySafeWith).
func expectReplaySafe(g Gomega, spec v1alpha1.CanarySpec, d CanaryDecision, obs CanaryObserved) {
	testedCanary.expectReplaySafe(g, spec, d, obs)
}

// canaryCase is one row of a table test of Next.
type canaryCase = machineCase[v1alpha1.CanarySpec, v1alpha1.CanaryStatus, CanaryObserved, CanaryDecision]

// runCanaryCases runs each row and checks the restart property on it.
func runCanaryCases(t *testing.T, cases []canaryCase) { testedCanary.run(t, cases) }
