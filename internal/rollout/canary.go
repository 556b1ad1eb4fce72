package rollout

import (
	"cmp"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// DefaultProgressDeadline is the CRD's default progressDeadlineSeconds.
const DefaultProgressDeadline = 600 * time.Second

// PollInterval is how soon Next asks to look again while it waits for
// something the shell may not be told about by a watch: a weight read back
// from a router, a hook's progress.
const PollInterval = 5 * time.Second

// BlockedRetryInterval is how soon Next asks to look again while an object it
// needs is missing.
const BlockedRetryInterval = 30 * time.Second

// CanaryDecision is what Next decided for a Canary.
type CanaryDecision struct {
	// Status to write, in one patch, when it differs from the current one.
	Status v1alpha1.CanaryStatus
	// Actions to carry out, in order.
	Actions []CanaryAction
	// Outcome is the events to emit and when to look again.
	Outcome
}

// canaryMachine is one evaluation of Next: the inputs and the status and
// events being built. It lives for one call. The rules both kinds share
// come with the embedded release, which works on st's ReleaseStatus.
type canaryMachine struct {
	release
	spec v1alpha1.CanarySpec
	cur  v1alpha1.CanaryStatus
	obs  CanaryObserved
	st   v1alpha1.CanaryStatus
}

// Next decides what a Canary does now. It never reads the clock or the API:
// everything arrives in its arguments. Given its own Status back with the same
// Observed, it returns the same Status, the same Actions and no Events.
func Next(spec v1alpha1.CanarySpec, cur v1alpha1.CanaryStatus, obs CanaryObserved) CanaryDecision {
	m := &canaryMachine{spec: spec, cur: cur, obs: obs, st: *cur.DeepCopy()}
	m.release = newRelease(truncNow(obs.Now), &m.st.ReleaseStatus, canaryHooks(spec), spec.ProgressDeadlineSeconds, m.recordAt)
	m.st.ObservedGeneration = obs.Generation
	blocked := m.blocked()
	var lost lostTarget
	switch {
	case blocked.reason == "":
		m.run()
	case m.targetLost():
		lost = m.whileTargetLost()
		if blocked.stalled {
			blocked.message = lost.message
		}
	}
	d := CanaryDecision{Outcome: Outcome{Events: m.events}}
	if blocked.reason == "" {
		d.Actions = m.actions()
		d.RequeueAfter, d.Poll = m.requeue()
		m.st.CanaryWeight = m.reportedWeight()
		setConditions(&m.st.Conditions, obs.Generation, m.now, m.health(), m.promotion())
	} else {
		// Why: with the target or the route missing nothing can be read or
		// written safely, so nothing changes but the conditions that say so,
		// and the answer to any command. A lost target is the exception: the
		// primary still serves, so commands apply and the weight goes to 0
		// (see whileTargetLost).
		if lost.message == "" {
			m.refuseCommands(m.obs.Commands, blocked.message)
		}
		d.Events = m.events
		d.Actions, d.RequeueAfter = lost.actions, cmp.Or(lost.requeue, BlockedRetryInterval)
		m.st.CanaryWeight = m.reportedWeight()
		setConditions(&m.st.Conditions, obs.Generation, m.now, blocked, promotion{
			status: metav1.ConditionUnknown, reason: blocked.reason, message: blocked.message})
	}
	m.st.Phase = CanaryPhase(m.st)
	m.st.Step, m.st.Message = CanaryStepLabel(len(spec.Steps), m.st), DisplayMessage(m.st.Conditions)
	d.Status = m.st
	return d
}

func truncNow(t time.Time) metav1.Time {
	return metav1.NewTime(t.Truncate(time.Second))
}

// blocked returns a stalled health when an object Next depends on is missing.
// A generated route may be missing (SetWeight creates it); a route the user
// named must exist, since Sluice only edits it.
func (m *canaryMachine) blocked() health {
	name := m.spec.TargetRef.Name
	switch {
	case !m.obs.Target.Exists && m.inFlight():
		// Why: a target gone mid-release (a replace, a forced re-create) is
		// no wait like a Deployment not created yet: traffic went back to
		// the primary (see whileTargetLost), and a person should know.
		return health{stalled: true, reason: v1alpha1.ReasonTargetNotFound,
			message: fmt.Sprintf("Deployment %s not found", name)}
	case !m.obs.Target.Exists:
		return waitingForTarget(name)
	case !m.obs.Route.Exists && userOwnedRoute(m.spec):
		return health{stalled: true, reason: v1alpha1.ReasonRouteNotFound,
			message: fmt.Sprintf("route %s named in spec.trafficRouting not found: create it or remove the name", routeName(m.spec))}
	case m.obs.Route.Unmanageable != "":
		// Why: Sluice writes nothing to a route it cannot manage; the user
		// must change the route or the spec, and the watch on routes brings
		// the Canary back when they do.
		return health{stalled: true, reason: v1alpha1.ReasonRouteUnmanageable, message: m.obs.Route.Unmanageable}
	}
	return health{}
}

func userOwnedRoute(spec v1alpha1.CanarySpec) bool {
	return routeName(spec) != ""
}

func routeName(spec v1alpha1.CanarySpec) string {
	r := spec.TrafficRouting
	switch {
	case r.GatewayAPI != nil:
		return r.GatewayAPI.HTTPRoute.Name
	case r.Istio != nil:
		return r.Istio.VirtualService.Name
	}
	return ""
}

// run applies, in order: the release the target's revision calls for, a due
// analysis check, edits of the spec, new commands and hook results; then it
// takes transitions until none applies, so that the returned status is a
// fixed point and a replay of the same reconcile changes nothing; last it
// starts the hook runs whose turn it is.
func (m *canaryMachine) run() {
	m.followTarget()
	m.applyDueCheck()
	m.followSpec()
	m.applyCommands(m.obs.Commands, m)
	m.mergeHooks(m.obs.Hooks, m.st.CanaryRevision)
	for hop := 0; hop < 2*len(m.spec.Steps)+8; hop++ {
		if !m.hop() {
			break
		}
	}
	m.startHooks()
}

// hop takes at most one transition and reports whether it did.
func (m *canaryMachine) hop() bool {
	switch {
	case m.st.StableRevision == "":
		return m.finishInit()
	case !m.inFlight(), m.st.AbortedAt != nil:
		// Why: a rolled-back revision stays rolled back until a new revision
		// or a retry command; a stable Canary waits for a new revision. Both
		// only drain the canary.
		return m.startDrain()
	case m.st.PromotingAt != nil:
		return m.advancePromotion()
	}
	return m.advanceRelease()
}

// inFlight reports whether a revision other than the stable one is released
// (or was rolled back and awaits a new revision or a retry).
func (m *canaryMachine) inFlight() bool { return canaryInFlight(m.st) }

func canaryInFlight(st v1alpha1.CanaryStatus) bool {
	return st.CanaryRevision != "" && st.CanaryRevision != st.StableRevision
}

// recordAt is where an audit record says a Canary stands: the revision in
// flight (else the stable one), the step and the weight the router reports.
func (m *canaryMachine) recordAt() (string, int32, int32) {
	rev := m.st.CanaryRevision
	if rev == "" {
		rev = m.st.StableRevision
	}
	return rev, m.st.CurrentStep, m.reportedWeight()
}

func (m *canaryMachine) reportedWeight() int32 {
	if !m.obs.Route.Exists {
		return 0
	}
	return m.obs.Route.CanaryWeight
}

// followTarget starts, restarts or cancels a release from the target's
// revision. Why here and first: the target's template is the desired state;
// whatever was in flight for another revision is moot once it changes.
func (m *canaryMachine) followTarget() {
	target, stable := m.obs.Target.Revision, m.st.StableRevision
	switch {
	case stable == "":
		return
	case target == stable && m.st.CanaryRevision != "":
		// Why: the user went back to the stable template (a Git revert): the
		// release, running or rolled back, is over and traffic stays on the
		// primary.
		prev := m.st.CanaryRevision
		m.resetRelease("")
		m.record(EventNormal, EventReleaseCanceled,
			fmt.Sprintf("target is back at stable revision %s; release of %s canceled", stable, prev))
	case target != stable && target != m.st.CanaryRevision:
		// Why: a new template restarts from the first step, whatever the old
		// release had reached: its analysis says nothing about this version.
		msg := fmt.Sprintf("new revision %s detected (stable %s)", target, stable)
		if m.inFlight() {
			msg += fmt.Sprintf("; replaces revision %s, restarting from step 0", m.st.CanaryRevision)
		}
		m.resetRelease(target)
		m.record(EventNormal, EventNewRevision, msg)
	}
}

// resetRelease starts a fresh release of rev ("" for none): step 0, no
// clocks, no analysis, no hook runs.
func (m *canaryMachine) resetRelease(rev string) {
	m.st.CanaryRevision = rev
	m.st.CurrentStep = 0
	m.st.StepStartedAt = nil
	m.st.HeldWeight = nil
	m.st.CanaryFullAt = nil
	m.st.DrainStartedAt = nil
	m.release.resetRelease(rev)
}

// applyDueCheck records the shell's check when it was due for the status the
// shell saw. Why the guard: a replayed reconcile carries the same check, and
// counting it twice would double a failure.
func (m *canaryMachine) applyDueCheck() {
	c := m.obs.Check
	if c == nil || m.cur.CanaryRevision != m.st.CanaryRevision || !AnalysisDue(m.spec, m.cur, m.obs.Now) {
		return
	}
	m.takeCheck(*c, m.spec.Analysis, "")
}

// AnalysisDue reports whether the shell should run the Canary's analysis
// check now. Checks run while the canary carries a step's traffic (the step's
// clock runs), not while paused, promoting or rolled back, every interval.
func AnalysisDue(spec v1alpha1.CanarySpec, st v1alpha1.CanaryStatus, now time.Time) bool {
	if spec.Analysis == nil || !canaryInFlight(st) || st.AbortedAt != nil || st.PromotingAt != nil ||
		st.PausedAt != nil || st.StepStartedAt == nil {
		return false
	}
	return !truncNow(now).Time.Before(nextCheckAt(spec.Analysis, st.Analysis, st.StepStartedAt.Time))
}
