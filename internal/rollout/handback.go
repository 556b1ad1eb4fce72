package rollout

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// HandBackDrain is how long the finalizer keeps Sluice's Deployments and
// Services after the traffic was handed back to the user's Deployment, so
// that requests still routed the old way (a proxy that has not yet read the
// new route, a connection kept alive) finish on pods that still serve.
const HandBackDrain = 3 * time.Second

// HandBackObserved is what the shell read for the hand-back of a Canary or
// BlueGreen being deleted.
type HandBackObserved struct {
	// Now is the reconcile's clock reading.
	Now time.Time
	// Generation is the object's metadata.generation.
	Generation int64
	// Target is the user's Deployment, which takes the traffic back.
	Target WorkloadState
	// Serving is the Sluice-owned Deployment that serves now: a Canary's
	// primary, a BlueGreen's active color (Exists false when missing).
	Serving WorkloadState
}

// HandBackDecision is what the finalizer does now.
type HandBackDecision struct {
	// Conditions are the object's conditions to write, before anything
	// else is done, when they differ from the current ones.
	Conditions []metav1.Condition
	// ScaleTarget, when not nil, is the size to give the user's Deployment.
	ScaleTarget *int32
	// MoveTraffic asks the shell to point the apex (active) Service and the
	// routes at the user's Deployment. It is idempotent and asked again on
	// every reconcile once the target is ready, so that a write lost to a
	// crash is made again.
	MoveTraffic bool
	// Release lets the object go: remove the finalizer. The shell does so
	// only if MoveTraffic, done in the same reconcile, changed nothing.
	Release bool
	// RequeueAfter is when to look again; zero with Release.
	RequeueAfter time.Duration
}

// HandBack decides the next step of handing a workload back to the user's
// Deployment when its Canary or BlueGreen is deleted, so that no request
// goes to a Service with no ready pod: first the target is scaled to the
// size of what serves now and waited for until every pod is ready; then the
// traffic moves to it; then, HandBackDrain later, Sluice's objects may go.
// The step reached is kept in the HandedBack condition, the only memory
// across reconciles: its lastTransitionTime is when the traffic moved.
func HandBack(conds []metav1.Condition, obs HandBackObserved) HandBackDecision {
	now := truncNow(obs.Now)
	out := HandBackDecision{Conditions: cloneConditions(conds)}
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionHandedBack); c != nil && c.Status == metav1.ConditionTrue {
		// Why: the traffic moved at lastTransitionTime; the old pods keep
		// serving what is still routed to them until the drain is over.
		left := c.LastTransitionTime.Add(HandBackDrain).Sub(now.Time)
		out.MoveTraffic = true
		if left <= 0 {
			out.Release = true
			return out
		}
		out.RequeueAfter = left
		return out
	}
	want := max(obs.Serving.DesiredReplicas, 1)
	if !obs.Serving.Exists {
		want = max(obs.Target.DesiredReplicas, 1)
	}
	switch {
	case !obs.Target.Exists:
		// Why: with no Deployment to hand back to, nothing can be waited
		// for; the routes still go back to the apex Service so that a
		// re-created Deployment serves at once.
		handedBack(&out, obs, now, "Deployment not found: nothing to hand back to; traffic goes to the apex Service")
	case !obs.Serving.Exists && obs.Target.DesiredReplicas > 0:
		// Why: nothing of Sluice's serves (it never initialized, or its copy
		// is gone), so the user's Deployment runs as the user left it and
		// no traffic depends on it becoming ready.
		handedBack(&out, obs, now, "nothing of Sluice's serves: the Deployment is left as it is")
	case obs.Target.DesiredReplicas < want:
		out.ScaleTarget = &want
		waiting(&out, obs, now, want)
	case obs.Target.ReadyReplicas < want:
		waiting(&out, obs, now, want)
	default:
		handedBack(&out, obs, now, fmt.Sprintf("Deployment ready (%d/%d pods): traffic handed back to it",
			obs.Target.ReadyReplicas, want))
	}
	return out
}

// waiting records that the finalizer waits for the target's pods.
func waiting(out *HandBackDecision, obs HandBackObserved, now metav1.Time, want int32) {
	msg := fmt.Sprintf("deleting: waiting for the target Deployment to have %d ready pods (%d ready) before traffic moves to it",
		want, obs.Target.ReadyReplicas)
	setHandBack(&out.Conditions, obs.Generation, now, metav1.ConditionFalse, v1alpha1.ReasonHandingBack, msg)
	out.RequeueAfter = PollInterval
}

// handedBack records that the traffic moves now and starts the drain.
func handedBack(out *HandBackDecision, obs HandBackObserved, now metav1.Time, msg string) {
	setHandBack(&out.Conditions, obs.Generation, now, metav1.ConditionTrue, v1alpha1.ReasonTrafficHandedBack, "deleting: "+msg)
	out.MoveTraffic = true
	out.RequeueAfter = HandBackDrain
}

// setHandBack sets HandedBack, and Ready and Reconciling to say the object
// is on its way out.
func setHandBack(conds *[]metav1.Condition, gen int64, now metav1.Time, status metav1.ConditionStatus, reason, msg string) {
	for _, c := range []metav1.Condition{
		{Type: v1alpha1.ConditionHandedBack, Status: status, Reason: reason, Message: msg},
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonHandingBack, Message: msg},
		{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonHandingBack, Message: msg},
		{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonHandingBack, Message: msg},
	} {
		c.ObservedGeneration, c.LastTransitionTime = gen, now
		meta.SetStatusCondition(conds, c)
	}
}

func cloneConditions(conds []metav1.Condition) []metav1.Condition {
	if conds == nil {
		return nil
	}
	out := make([]metav1.Condition, len(conds))
	for i := range conds {
		conds[i].DeepCopyInto(&out[i])
	}
	return out
}
