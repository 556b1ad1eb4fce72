package gitops

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// t0 is the simulated clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// state is one object in a named state, with what each tool must read.
type state struct {
	name string
	obj  any // *v1alpha1.Canary or *v1alpha1.BlueGreen
	// argo is the Argo CD health status the Lua check must return.
	argo string
	// argoMessage is the message it must return.
	argoMessage string
	// kstatus is the kstatus status Compute must return.
	kstatus string
	// enabled are the actions Argo CD's discovery must offer.
	enabled []string
	// applies reports whether the state machine carries out a command in
	// this state; nil where it does not run (no status yet, invalid spec).
	applies func(v1alpha1.Command) bool
}

func weightStep(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: &w} }

func pauseStep(d time.Duration) v1alpha1.CanaryStep {
	p := &v1alpha1.Pause{}
	if d > 0 {
		p.Duration = &metav1.Duration{Duration: d}
	}
	return v1alpha1.CanaryStep{Pause: p}
}

// testAnalysis checks one metric every minute; two failures roll back,
// three provider errors in a row pause.
func testAnalysis() *v1alpha1.Analysis {
	limit := 0.01
	return &v1alpha1.Analysis{
		Interval:     &metav1.Duration{Duration: time.Minute},
		FailureLimit: 2,
		ErrorLimit:   3,
		Provider:     &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "http://prometheus:9090"},
		Metrics: []v1alpha1.Metric{{Name: "error-rate", Query: "q",
			ThresholdRange: v1alpha1.ThresholdRange{Max: &limit}}},
	}
}

func deployment(rev string, n int32) rollout.WorkloadState {
	return rollout.WorkloadState{Exists: true, Revision: rev, DesiredReplicas: n, ReadyReplicas: n}
}

// canaryRun is a Canary and a simulated cluster that obeys the actions
// rollout.Next returns, the way the reconciler does.
type canaryRun struct {
	sim
	obj     v1alpha1.Canary
	target  rollout.WorkloadState
	primary rollout.WorkloadState
	route   rollout.RouteState
}

// newCanaryRun is a Canary podinfo whose Deployment runs v1 and nothing of
// Sluice's exists yet. Its steps: weight 10, a pause until promoted, weight
// 50, a one-minute pause; every step is analysed.
func newCanaryRun() *canaryRun {
	r := &canaryRun{
		obj: v1alpha1.Canary{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Canary"},
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop", Generation: 1},
			Spec: v1alpha1.CanarySpec{
				TargetRef:      v1alpha1.TargetRef{Kind: "Deployment", Name: "podinfo"},
				Service:        v1alpha1.ServicePort{Port: 9898},
				TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
				Steps: []v1alpha1.CanaryStep{weightStep(10), pauseStep(0), weightStep(50),
					pauseStep(time.Minute)},
				Analysis:                testAnalysis(),
				ProgressDeadlineSeconds: 600,
			},
		},
		target: deployment("v1", 3),
	}
	r.sim = newSim("Canary", r.settle, func() (any, []metav1.Condition) { return r.obj.Status, r.obj.Status.Conditions })
	return r
}

// reconcile runs Next once and carries out its actions; pods become ready
// only in ready.
func (r *canaryRun) reconcile() rollout.CanaryDecision {
	obs := rollout.CanaryObserved{Now: r.now, Generation: r.obj.Generation, Target: r.target,
		Primary: r.primary, Route: r.route, Commands: rollout.CommandsFromAnnotations(r.annotations)}
	if rollout.AnalysisDue(r.obj.Spec, r.obj.Status, r.now) {
		obs.Check = &rollout.Check{Results: []v1alpha1.MetricResult{{Name: "error-rate", Outcome: r.outcome,
			Value: "0.001", Time: metav1.NewTime(r.now.Truncate(time.Second))}}}
	}
	d := rollout.Next(r.obj.Spec, r.obj.Status, obs)
	for _, a := range d.Actions {
		switch a := a.(type) {
		case rollout.SetWeight:
			r.route = rollout.RouteState{Exists: true, CanaryWeight: a.Weight}
		case rollout.EnsurePrimary:
			if r.primary.Revision != a.Revision {
				r.primary = rollout.WorkloadState{Exists: true, Revision: a.Revision}
			}
			r.primary.DesiredReplicas = 3
		case rollout.ScaleCanary:
			r.target.DesiredReplicas, r.target.ReadyReplicas = a.Replicas, min(r.target.ReadyReplicas, a.Replicas)
		}
	}
	r.obj.Status = d.Status
	return d
}

// applies returns whether Next, in the world as it is now, carries out a
// command sent to obj.
func (r *canaryRun) applies(obj *v1alpha1.Canary) func(v1alpha1.Command) bool {
	w := *r
	return func(c v1alpha1.Command) bool {
		obs := rollout.CanaryObserved{Now: w.now, Generation: obj.Generation, Target: w.target,
			Primary: w.primary, Route: w.route, Commands: []rollout.PendingCommand{{Name: c, ID: "argocd"}}}
		return hasEvent(rollout.Next(obj.Spec, obj.Status, obs).Events, rollout.EventCommandApplied)
	}
}

func hasEvent(events []rollout.Event, reason string) bool {
	for _, e := range events {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

// settle makes every pod ready and reconciles once; it reports whether
// that changed nothing: no event, no action, the same status.
func (r *canaryRun) settle(t *testing.T) bool {
	before := r.obj.Status.DeepCopy()
	r.target.ReadyReplicas, r.primary.ReadyReplicas = r.target.DesiredReplicas, r.primary.DesiredReplicas
	d := r.reconcile()
	return len(d.Events) == 0 && len(d.Actions) == 0 && equalJSON(t, before, &r.obj.Status)
}

// release bumps the user's template to rev, as an image bump in Git does.
func (r *canaryRun) release(rev string) { r.target.Revision, r.target.ReadyReplicas = rev, 0 }

// snapshot is the object as it stands, in the state of reason.
func (r *canaryRun) snapshot(t *testing.T, reason string) *v1alpha1.Canary {
	t.Helper()
	r.expectReason(t, reason)
	return r.obj.DeepCopy()
}

func message(conds []metav1.Condition, typ string) string {
	for _, c := range conds {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}

// canaryStates walks one Canary through a life and returns it in every
// state Sluice can write.
func canaryStates(t *testing.T) []state {
	t.Helper()
	out := &stateList{kind: "Canary"}
	r := newCanaryRun()
	add := func(name string, c *v1alpha1.Canary, argo, cond, kstatus string, enabled ...string) {
		out.add(name, c, c.Status.Conditions, r.applies(c), argo, cond, kstatus, enabled...)
	}

	fresh := r.obj.DeepCopy()
	// kstatus reads an object without status as Current: it has neither
	// status.observedGeneration nor conditions to tell it otherwise, and the
	// API server drops any status sent on create. This window lasts until
	// the operator's first reconcile (see docs/gitops.md).
	out.out = append(out.out, state{name: "Canary just applied, no status yet", obj: fresh, argo: "Progressing",
		argoMessage: "Waiting for the Sluice operator to report status", kstatus: "Current"})
	r.reconcile()
	r.reconcile()
	add("initializing", r.snapshot(t, v1alpha1.ReasonInitializing), "Progressing", "Reconciling", "InProgress")
	r.converge(t)
	stable := r.snapshot(t, v1alpha1.ReasonSucceeded)
	add("stable", stable, "Healthy", "Ready", "Current")

	out.addUnobserved(stable.DeepCopy(), 2)

	invalid := stable.DeepCopy()
	release.InvalidConditions(&invalid.Status.Conditions, 1, t0, `spec.trafficRouting: unknown router "linkerd"`)
	invalid.Status.Phase = rollout.CanaryPhase(invalid.Status)
	add("with an invalid spec", invalid, "Degraded", "Stalled", "Failed")

	r.release("v2")
	r.reconcile()
	add("waiting for canary pods", r.snapshot(t, v1alpha1.ReasonWaitingForReady), "Progressing", "Reconciling",
		"InProgress", "promote", "promote-full", "abort", "pause")
	r.converge(t)
	add("analysing at weight 10", r.snapshot(t, v1alpha1.ReasonAnalysing), "Progressing", "Reconciling",
		"InProgress", "promote", "promote-full", "abort", "pause")
	r.advance(t, time.Minute)
	add("waiting for a manual promote", r.snapshot(t, v1alpha1.ReasonWaitingForPromotion), "Suspended",
		"Reconciling", "InProgress", "promote", "promote-full", "abort", "pause")
	r.run(t, v1alpha1.CommandPause, "1")
	add("paused by command", r.snapshot(t, v1alpha1.ReasonPaused), "Suspended", "Reconciling", "InProgress",
		"promote", "promote-full", "abort", "resume")
	r.run(t, v1alpha1.CommandResume, "2")
	r.run(t, v1alpha1.CommandPromote, "3")
	r.advance(t, time.Minute)
	add("in a timed pause step", r.snapshot(t, v1alpha1.ReasonPaused), "Progressing", "Reconciling", "InProgress",
		"promote", "promote-full", "abort", "pause")
	// Why NoData: a timed pause whose time is up holds while the last
	// check had no data (no data never raises a weight or promotes). The
	// reason stays Paused, and nobody needs to act: Progressing.
	r.outcome = v1alpha1.OutcomeNoData
	r.advance(t, time.Minute)
	add("holding a timed pause past its end on a check without data", r.snapshot(t, v1alpha1.ReasonPaused),
		"Progressing", "Reconciling", "InProgress", "promote", "promote-full", "abort", "pause")
	r.outcome = v1alpha1.OutcomePassed
	r.now = r.now.Add(time.Minute)
	r.reconcile()
	add("promoting", r.snapshot(t, v1alpha1.ReasonPromoting), "Progressing", "Reconciling", "InProgress", "abort")
	r.converge(t)
	// The canary drains (drainDelay, 10 s by default) before the release is
	// stable.
	r.advance(t, 15*time.Second)
	add("promoted", r.snapshot(t, v1alpha1.ReasonSucceeded), "Healthy", "Ready", "Current")

	r.release("v3")
	r.converge(t)
	r.outcome = v1alpha1.OutcomeError
	for range 3 {
		r.advance(t, time.Minute)
	}
	add("paused by provider errors", r.snapshot(t, v1alpha1.ReasonProviderUnavailable), "Suspended",
		"Reconciling", "InProgress", "promote", "promote-full", "abort", "resume")
	r.outcome = v1alpha1.OutcomeFailed
	r.run(t, v1alpha1.CommandResume, "4")
	r.advance(t, time.Minute)
	r.advance(t, time.Minute)
	add("rolled back by analysis", r.snapshot(t, v1alpha1.ReasonAnalysisFailed), "Degraded", "Stalled", "Failed",
		"retry")

	r.run(t, v1alpha1.CommandRetry, "5")
	r.outcome = v1alpha1.OutcomePassed
	r.run(t, v1alpha1.CommandAbort, "6")
	add("aborted by command", r.snapshot(t, v1alpha1.ReasonAborted), "Degraded", "Stalled", "Failed", "retry")

	// A Git revert to the stable revision, then the Deployment goes (a
	// Deployment gone mid-release is a lost target: Stalled, see
	// internal/rollout's TestCanaryTargetLost).
	r.release("v2")
	r.converge(t)
	r.advance(t, 15*time.Second)
	r.target.Exists = false
	r.reconcile()
	add("whose Deployment is missing", r.snapshot(t, v1alpha1.ReasonWaitingForTarget), "Progressing", "Reconciling",
		"InProgress")
	return out.out
}
