package rollout

import (
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// actions derives the writes from the decided status and what was observed:
// each Action closes a gap between the two, so a replay asks for the same
// writes and a converged world asks for none. Order: traffic first (a
// rollback takes traffic off the canary before anything else), then the
// primary, then the canary's size.
func (m *canaryMachine) actions() []CanaryAction {
	var out []CanaryAction
	w, hasWeight := m.desiredWeight()
	if hasWeight && !m.obs.Route.carries(w) {
		out = append(out, SetWeight{Weight: w})
	}
	if rev := m.primaryRevision(); m.primaryMayChange(rev, w) {
		if m.primaryReplaceable() {
			out = append(out, ReplacePrimary{Revision: m.obs.Primary.Revision})
		} else {
			out = append(out, EnsurePrimary{Revision: rev, Replicas: m.primarySize(), Autoscaled: m.obs.Primary.Autoscaled})
		}
	}
	if r, ok := m.canaryReplicas(); ok && m.obs.Target.DesiredReplicas != r {
		out = append(out, ScaleCanary{Replicas: r})
	}
	return out
}

// primaryRevision is the revision the primary must run: the target's until
// initialized, the canary's once a promotion has put all traffic on the
// canary, the stable one otherwise (which also restores it after a rollback
// during a promotion).
func (m *canaryMachine) primaryRevision() string {
	switch {
	case m.st.StableRevision == "":
		return m.obs.Target.Revision
	case m.inFlight() && m.st.AbortedAt == nil && m.st.PromotingAt != nil && m.st.CanaryFullAt != nil:
		return m.st.CanaryRevision
	}
	return m.st.StableRevision
}

// primaryMayChange reports whether the primary must be written now to run
// rev, given the weight w asked of the router. Why the gates: during a
// promotion, and while a rollback restores the primary, its template changes
// only while the router reports 100% on the canary, so that no pod serving
// traffic is changed. Elsewhere the primary is created, or put back where it
// stands: after someone changed it, after a new revision or a revert cut a
// promotion short, or in a rollback whose canary has no ready pod to take
// the traffic back. That is safe because a primary's strategy never takes a
// pod away before its replacement is ready (workload.CopyStrategy).
func (m *canaryMachine) primaryMayChange(rev string, w int32) bool {
	p := m.obs.Primary
	switch {
	case !p.Exists:
		return true
	case p.Revision == rev:
		return false
	case !m.inFlight():
		return true
	case m.st.AbortedAt == nil && m.st.PromotingAt != nil:
		return m.routeReads(100)
	case m.st.AbortedAt == nil, !m.primaryTouched():
		return true
	}
	return m.routeReads(100) || w != 100
}

// primarySize is the primary's size: the one it has, so that a release
// never resizes the primary that serves (an autoscaler or the user owns its
// count), or the target's when the primary is created, since it takes over
// the traffic the target's pods served. Never zero: a primary of no pods
// could never become ready to take any traffic.
func (m *canaryMachine) primarySize() int32 {
	if m.obs.Primary.Exists {
		return max(m.obs.Primary.DesiredReplicas, 1)
	}
	return max(m.obs.Target.DesiredReplicas, 1)
}

// primaryReplaceable reports whether a primary with a stale selector may be
// deleted and created anew: only in a promotion whose canary takes all the
// traffic, read back, so that the primary serves nothing; elsewhere it is
// kept, selector and all, and updated in place.
func (m *canaryMachine) primaryReplaceable() bool {
	return m.obs.Primary.Exists && m.obs.Primary.SelectorStale && m.inFlight() && m.st.AbortedAt == nil &&
		m.st.PromotingAt != nil && m.st.CanaryFullAt != nil && m.st.DrainStartedAt == nil && m.routeReads(100)
}

// desiredWeight is the canary weight the router must carry, and false when
// Next has no opinion yet (the primary is not ready to take traffic).
func (m *canaryMachine) desiredWeight() (int32, bool) {
	switch {
	case m.st.StableRevision == "":
		// Why: create the route only once the primary can serve all of it.
		return 0, m.obs.Primary.readyAt(m.obs.Target.Revision)
	case !m.inFlight():
		return 0, true
	case m.st.AbortedAt != nil:
		return m.rollbackWeight(), true
	case m.st.PromotingAt != nil:
		return m.promotionWeight(), true
	case !m.trafficStarted() && !m.gateOpen():
		return 0, true
	}
	return m.weight(), true
}

// promotionWeight is the canary's weight during a promotion: its step's
// weight until it is ready at the primary's size, then all of it until the
// primary runs the new revision, ready, then none.
func (m *canaryMachine) promotionWeight() int32 {
	switch {
	case m.st.DrainStartedAt != nil:
		return 0
	case m.st.CanaryFullAt != nil:
		if m.obs.Primary.readyAt(m.st.CanaryRevision) {
			return 0
		}
		return 100
	case m.canaryFull():
		return 100
	case m.trafficStarted():
		return m.weight()
	}
	return 0
}

// rollbackWeight is the canary's weight after a rollback: none, except while
// a primary that a promotion changed is being restored; then all of it, for
// as long as the canary has ready pods to serve it.
func (m *canaryMachine) rollbackWeight() int32 {
	if !m.primaryTouched() || m.obs.Primary.readyAt(m.st.StableRevision) {
		return 0
	}
	t := m.obs.Target
	if t.readyAt(m.st.CanaryRevision) || m.routeReads(100) && t.ReadyReplicas > 0 {
		return 100
	}
	return 0
}

// canaryReplicas is the size of the target Deployment, and false when Next
// leaves it alone: before initialization (it serves the user's traffic), and
// after a release until the router reported no traffic on it and the drain
// delay passed.
func (m *canaryMachine) canaryReplicas() (int32, bool) {
	switch {
	case m.st.StableRevision == "":
		return 0, false
	case m.inFlight() && m.st.AbortedAt == nil:
		return m.canarySize(), true
	case m.drained():
		return 0, true
	}
	return 0, false
}

// canarySize is the canary's size during a release: the primary's current
// size (its own while the primary is missing). Why not less at a small weight: the canary takes all traffic during
// a promotion, and only a canary at full size, ready, may. When an
// autoscaler owns the canary's replicas, Sluice scales it from zero to the
// primary's size and, for a promotion, up to it again; in between the count
// is the autoscaler's.
func (m *canaryMachine) canarySize() int32 {
	full, t := max(m.obs.Primary.DesiredReplicas, 1), m.obs.Target
	if !m.obs.Primary.Exists {
		// Why: a primary being replaced (ReplacePrimary) has no size; the
		// canary, which carries all traffic then, keeps its own.
		full = max(t.DesiredReplicas, 1)
	}
	switch {
	case !t.Autoscaled, t.DesiredReplicas == 0:
		return full
	case m.st.PromotingAt != nil && m.st.CanaryFullAt == nil:
		return max(t.DesiredReplicas, full)
	}
	return t.DesiredReplicas
}

// hookStage says which hooks run at this point of the release.
func (m *canaryMachine) hookStage() (v1alpha1.CanaryHookType, bool) {
	rev := m.st.CanaryRevision
	switch {
	case m.st.StableRevision == "" || !m.inFlight():
		return "", false
	case m.st.AbortedAt != nil:
		return v1alpha1.HookRollback, true
	case m.st.PromotingAt != nil:
		return v1alpha1.HookPostRollout, m.st.DrainStartedAt != nil
	case m.st.PausedAt != nil:
		return "", false
	case !m.trafficStarted():
		return v1alpha1.HookPreRollout, m.obs.Target.readyAt(rev)
	case int(m.st.CurrentStep) >= len(m.spec.Steps) && m.st.StepStartedAt != nil:
		v := verdict(m.spec.Analysis, m.st.Analysis)
		return v1alpha1.HookConfirmPromotion, m.spec.Analysis == nil || v == VerdictPass || v == VerdictPromote
	}
	return "", false
}

// requeue is when to look again at the latest: the nearest of the next
// analysis check, the end of a timed pause, a progress deadline, or a short
// poll while waiting on something a watch should report (a weight read back,
// a Deployment becoming ready). Zero when only a person or a watched object
// can move the release. poll is true when that look is only the poll: nothing
// falls due then (see CanaryDecision.Poll).
func (m *canaryMachine) requeue() (after time.Duration, poll bool) {
	var at []time.Time
	polling := false
	if m.hookRunning() {
		// Why: the shell progresses Running hook runs on each reconcile, and
		// a webhook's answer comes by no watch: this look is due, not a poll.
		at = append(at, m.now.Add(PollInterval))
	}
	switch {
	case m.st.StableRevision == "":
		polling = true
	case !m.inFlight(), m.st.AbortedAt != nil:
		var d []time.Time
		d, polling = m.drainTimers()
		at = append(at, d...)
	case m.st.PausedAt != nil:
	case m.st.DrainStartedAt != nil:
		at = append(at, m.drainEnd())
	case m.st.PromotingAt != nil:
		polling = true
		at = append(at, m.st.PromotingAt.Add(m.progressDeadline()))
	default:
		var r []time.Time
		r, polling = m.releaseTimers()
		at = append(at, r...)
	}
	return wake(m.obs.Now, at, polling, m.now.Add(PollInterval))
}

// drainTimers are the moments a release at rest or rolled back may move (the
// end of the drain delay), and whether it polls meanwhile: while the router
// has yet to report 0% (or a changed primary to be restored).
func (m *canaryMachine) drainTimers() ([]time.Time, bool) {
	switch d := m.st.DrainStartedAt; {
	case m.obs.Target.DesiredReplicas == 0:
		return nil, false
	case d == nil:
		return nil, true
	case !m.drained():
		return []time.Time{m.drainEnd()}, false
	}
	return nil, false
}

// releaseTimers are the moments a running release may move on its own, and
// whether it polls meanwhile (its step's weight not read back yet, or its
// canary without a ready pod).
func (m *canaryMachine) releaseTimers() ([]time.Time, bool) {
	at := []time.Time{}
	if deadline, ok := m.readyDeadline(); ok {
		at = append(at, deadline)
	}
	if m.st.StepStartedAt == nil || m.obs.Target.ReadyReplicas == 0 {
		return at, true
	}
	if m.spec.Analysis != nil {
		at = append(at, nextCheckAt(m.spec.Analysis, m.st.Analysis, m.st.StepStartedAt.Time))
	}
	if i := int(m.st.CurrentStep); i < len(m.spec.Steps) {
		if p := m.spec.Steps[i].Pause; p != nil && p.Duration != nil {
			at = append(at, m.st.StepStartedAt.Add(p.Duration.Duration))
		}
	}
	return at, false
}

// startHooks starts the hooks whose turn it is (see release.startHookRuns).
func (m *canaryMachine) startHooks() {
	if typ, ok := m.hookStage(); ok {
		m.startHookRuns(string(typ), m.st.CanaryRevision)
	}
}

// hookRunning reports whether a run of the release in flight is Running.
func (m *canaryMachine) hookRunning() bool {
	return anyRunning(m.st.Hooks, m.st.CanaryRevision)
}
