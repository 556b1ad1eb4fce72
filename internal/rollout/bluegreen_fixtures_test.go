package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// bgSpec is a BlueGreen with automatic promotion, no checks, a 30s
// scale-down delay and a 10m progress deadline.
func bgSpec() v1alpha1.BlueGreenSpec {
	return v1alpha1.BlueGreenSpec{
		TargetRef:               v1alpha1.TargetRef{Kind: "Deployment", Name: "podinfo"},
		Service:                 v1alpha1.ServicePort{Port: 9898},
		ScaleDownDelay:          &metav1.Duration{Duration: 30 * time.Second},
		ProgressDeadlineSeconds: 600,
	}
}

// phaseAnalysis is the analysis of analysed() (1m interval, failureLimit 2,
// errorLimit 3) needing n passing checks.
func phaseAnalysis(n int32) *v1alpha1.PhaseAnalysis {
	return &v1alpha1.PhaseAnalysis{Analysis: *analysed(canarySpec(weightStep(1))).Analysis, Checks: n}
}

func bgHook(name string, typ v1alpha1.BlueGreenHookType) v1alpha1.BlueGreenHook {
	return v1alpha1.BlueGreenHook{Name: name, Type: typ,
		HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "http://hooks/" + name}}}
}

func bgRun(name string, typ v1alpha1.BlueGreenHookType, phase v1alpha1.HookPhase, d time.Duration) v1alpha1.HookStatus {
	return v1alpha1.HookStatus{Name: name, Type: string(typ), Revision: "v2", Phase: phase, StartedAt: stamp(d),
		Message: "answer"}
}

// bgObserved is a healthy world at t0+d during a release of v2: the target
// holds v2 and runs no pods, blue runs v1 and green v2 with 3 of 3 ready,
// the active Service selects blue.
func bgObserved(d time.Duration) BlueGreenObserved {
	return BlueGreenObserved{
		Now: at(d), Generation: 1,
		Target:        WorkloadState{Exists: true, Revision: "v2"},
		Blue:          deployment("v1", 3),
		Green:         deployment("v2", 3),
		ActiveService: ServiceState{Exists: true, Color: v1alpha1.ColorBlue},
	}
}

// serving is o with the active Service on c.
func serving(o BlueGreenObserved, c v1alpha1.Color) BlueGreenObserved {
	o.ActiveService = ServiceState{Exists: true, Color: c}
	return o
}

// bgStable is the status of a BlueGreen whose v1 is active on blue.
func bgStable() v1alpha1.BlueGreenStatus {
	return v1alpha1.BlueGreenStatus{ObservedGeneration: 1, ActiveColor: v1alpha1.ColorBlue, ActiveRevision: "v1"}
}

// bgReleasing is a release of v2 started at t0, green ready at t0+ready
// (none for a negative ready).
func bgReleasing(ready time.Duration) v1alpha1.BlueGreenStatus {
	st := bgStable()
	st.PreviewRevision, st.ReleaseStartedAt = "v2", stamp(0)
	if ready >= 0 {
		st.PreviewReadyAt = stamp(ready)
	}
	return st
}

// bgSwitched is a release of v2 whose Service flipped to green at t0+d.
func bgSwitched(d time.Duration) v1alpha1.BlueGreenStatus {
	st := bgReleasing(0)
	st.PrePromotionPassedAt, st.PromotingAt, st.SwitchedAt = stamp(0), stamp(0), stamp(d)
	return st
}

func bgCondition(st v1alpha1.BlueGreenStatus, typ string) metav1.Condition {
	return conditionIn(st.Conditions, typ)
}

// passes is an analysis status with n passing checks, the last at t0+d.
func passes(n int32, d time.Duration) *v1alpha1.AnalysisStatus {
	return &v1alpha1.AnalysisStatus{Checks: n, Passed: n, LastCheckAt: stamp(d),
		Results: []v1alpha1.MetricResult{result(v1alpha1.OutcomePassed, d)}}
}

// expectBlueGreenReplaySafe asserts the restart property of a BlueGreen
// decision (see expectReplaySafeWith).
func expectBlueGreenReplaySafe(g Gomega, spec v1alpha1.BlueGreenSpec, d BlueGreenDecision, obs BlueGreenObserved) {
	testedBlueGreen.expectReplaySafe(g, spec, d, obs)
}

// blueGreenCase is one row of a table test of NextBlueGreen.
type blueGreenCase = machineCase[v1alpha1.BlueGreenSpec, v1alpha1.BlueGreenStatus, BlueGreenObserved, BlueGreenDecision]

// runBlueGreenCases runs each row and checks the restart property on it.
func runBlueGreenCases(t *testing.T, cases []blueGreenCase) { testedBlueGreen.run(t, cases) }
