package gitops

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// blueGreenRun is a BlueGreen and a simulated cluster that obeys the actions
// rollout.NextBlueGreen returns.
type blueGreenRun struct {
	sim
	obj     v1alpha1.BlueGreen
	target  rollout.WorkloadState
	colors  map[v1alpha1.Color]*rollout.WorkloadState
	service rollout.ServiceState
}

// newBlueGreenRun is a BlueGreen orders whose Deployment runs v1. It waits
// for a manual promote after one passing pre-promotion check, and checks once
// more after the switch.
func newBlueGreenRun() *blueGreenRun {
	manual := false
	r := &blueGreenRun{
		obj: v1alpha1.BlueGreen{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "BlueGreen"},
			ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", Generation: 1},
			Spec: v1alpha1.BlueGreenSpec{
				TargetRef:               v1alpha1.TargetRef{Kind: "Deployment", Name: "orders"},
				Service:                 v1alpha1.ServicePort{Port: 8080},
				AutoPromotion:           &manual,
				PrePromotionAnalysis:    &v1alpha1.PhaseAnalysis{Analysis: *testAnalysis(), Checks: 1},
				PostPromotionAnalysis:   &v1alpha1.PhaseAnalysis{Analysis: *testAnalysis(), Checks: 1},
				ScaleDownDelay:          &metav1.Duration{Duration: 30 * time.Second},
				ProgressDeadlineSeconds: 600,
			},
		},
		target: deployment("v1", 3),
		colors: map[v1alpha1.Color]*rollout.WorkloadState{v1alpha1.ColorBlue: {}, v1alpha1.ColorGreen: {}},
	}
	r.sim = newSim("BlueGreen", r.settle, func() (any, []metav1.Condition) { return r.obj.Status, r.obj.Status.Conditions })
	return r
}

// reconcile runs NextBlueGreen once and carries out its actions as the
// shell does, stopping at the first it refuses (a switch to a color with
// no ready pod).
func (r *blueGreenRun) reconcile() rollout.BlueGreenDecision {
	obs := rollout.BlueGreenObserved{Now: r.now, Generation: r.obj.Generation, Target: r.target,
		Blue: *r.colors[v1alpha1.ColorBlue], Green: *r.colors[v1alpha1.ColorGreen],
		ActiveService: r.service, Commands: rollout.CommandsFromAnnotations(r.annotations)}
	if rollout.BlueGreenAnalysisDue(r.obj.Spec, r.obj.Status, r.now) {
		obs.Check = &rollout.Check{Results: []v1alpha1.MetricResult{{Name: "error-rate", Outcome: r.outcome,
			Value: "0.001", Time: metav1.NewTime(r.now.Truncate(time.Second))}}}
	}
	d := rollout.NextBlueGreen(r.obj.Spec, r.obj.Status, obs)
	for _, a := range d.Actions {
		if !r.apply(a) {
			break
		}
	}
	r.obj.Status = d.Status
	return d
}

func (r *blueGreenRun) apply(a rollout.Action) bool {
	switch a := a.(type) {
	case rollout.EnsureColor:
		c := r.colors[a.Color]
		if c.Revision != a.Revision {
			if r.target.Revision != a.Revision {
				return false
			}
			c.Revision, c.ReadyReplicas = a.Revision, 0
		}
		c.Exists, c.DesiredReplicas = true, a.Replicas
		c.ReadyReplicas = min(c.ReadyReplicas, a.Replicas)
	case rollout.ScaleColor:
		c := r.colors[a.Color]
		c.DesiredReplicas, c.ReadyReplicas = a.Replicas, min(c.ReadyReplicas, a.Replicas)
	case rollout.ScaleTarget:
		r.target.DesiredReplicas, r.target.ReadyReplicas = a.Replicas, min(r.target.ReadyReplicas, a.Replicas)
	case rollout.SwitchService:
		if r.colors[a.Color].ReadyReplicas == 0 {
			return false
		}
		r.service = rollout.ServiceState{Exists: true, Color: a.Color}
	}
	return true
}

// applies returns whether NextBlueGreen, in the world as it is now,
// carries out a command sent to obj.
func (r *blueGreenRun) applies(obj *v1alpha1.BlueGreen) func(v1alpha1.Command) bool {
	obs := rollout.BlueGreenObserved{Now: r.now, Generation: obj.Generation, Target: r.target,
		Blue: *r.colors[v1alpha1.ColorBlue], Green: *r.colors[v1alpha1.ColorGreen], ActiveService: r.service}
	return func(c v1alpha1.Command) bool {
		obs.Commands = []rollout.PendingCommand{{Name: c, ID: "argocd"}}
		return hasEvent(rollout.NextBlueGreen(obj.Spec, obj.Status, obs).Events, rollout.EventCommandApplied)
	}
}

// settle makes every pod ready and reconciles once; it reports whether
// that changed nothing: no event, the same status.
func (r *blueGreenRun) settle(t *testing.T) bool {
	before := r.obj.Status.DeepCopy()
	for _, c := range r.colors {
		c.ReadyReplicas = c.DesiredReplicas
	}
	r.target.ReadyReplicas = r.target.DesiredReplicas
	d := r.reconcile()
	return len(d.Events) == 0 && equalJSON(t, before, &r.obj.Status)
}

// snapshot is the object as it stands, in the state of reason.
func (r *blueGreenRun) snapshot(t *testing.T, reason string) *v1alpha1.BlueGreen {
	t.Helper()
	r.expectReason(t, reason)
	return r.obj.DeepCopy()
}

// blueGreenStates walks one BlueGreen through a life and returns it in
// every state Sluice can write.
func blueGreenStates(t *testing.T) []state {
	t.Helper()
	out := &stateList{kind: "BlueGreen"}
	r := newBlueGreenRun()
	add := func(name string, b *v1alpha1.BlueGreen, argo, cond, kstatus string, enabled ...string) {
		out.add(name, b, b.Status.Conditions, r.applies(b), argo, cond, kstatus, enabled...)
	}
	r.reconcile()
	add("initializing", r.snapshot(t, v1alpha1.ReasonInitializing), "Progressing", "Reconciling", "InProgress")
	r.converge(t)
	stable := r.snapshot(t, v1alpha1.ReasonSucceeded)
	add("stable", stable, "Healthy", "Ready", "Current")

	out.addUnobserved(stable.DeepCopy(), 3)

	invalid := stable.DeepCopy()
	release.InvalidConditions(&invalid.Status.Conditions, 1, t0, "spec.service.port: must be set")
	invalid.Status.Phase = rollout.BlueGreenPhase(invalid.Status)
	add("with an invalid spec", invalid, "Degraded", "Stalled", "Failed")

	r.target.Revision = "v2"
	r.reconcile()
	add("waiting for the new color", r.snapshot(t, v1alpha1.ReasonWaitingForReady), "Progressing",
		"Reconciling", "InProgress", "promote", "promote-full", "abort", "pause")
	r.converge(t)
	add("in pre-promotion checks", r.snapshot(t, v1alpha1.ReasonAnalysing), "Progressing", "Reconciling",
		"InProgress", "promote", "promote-full", "abort", "pause")
	r.advance(t, time.Minute)
	add("waiting for a manual promote", r.snapshot(t, v1alpha1.ReasonWaitingForPromotion), "Suspended",
		"Reconciling", "InProgress", "promote", "promote-full", "abort", "pause")
	r.run(t, v1alpha1.CommandPause, "1")
	add("paused by command", r.snapshot(t, v1alpha1.ReasonPaused), "Suspended", "Reconciling", "InProgress",
		"promote", "promote-full", "abort", "resume")
	r.run(t, v1alpha1.CommandResume, "2")
	r.run(t, v1alpha1.CommandPromote, "3")
	add("in post-promotion checks", r.snapshot(t, v1alpha1.ReasonAnalysing), "Progressing", "Reconciling",
		"InProgress", "promote", "promote-full", "abort", "pause")
	r.advance(t, time.Minute)
	add("promoted", r.snapshot(t, v1alpha1.ReasonSucceeded), "Healthy", "Ready", "Current")

	r.target.Revision = "v3"
	r.converge(t)
	r.outcome = v1alpha1.OutcomeFailed
	r.advance(t, time.Minute)
	r.advance(t, time.Minute)
	add("rolled back by analysis", r.snapshot(t, v1alpha1.ReasonAnalysisFailed), "Degraded", "Stalled", "Failed",
		"retry")
	return out.out
}
