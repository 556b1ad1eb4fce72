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
func (m *canaryMachine) actions() []Action {
	var out []Action
	if w, ok := m.desiredWeight(); ok && (!m.obs.Route.Exists || m.obs.Route.CanaryWeight != w) {
		out = append(out, SetWeight{Weight: w})
	}
	if rev := m.primaryRevision(); !m.obs.Primary.Exists || m.obs.Primary.Revision != rev {
		out = append(out, EnsurePrimary{Revision: rev})
	}
	if r, ok := m.canaryReplicas(); ok && m.obs.Target.DesiredReplicas != r {
		out = append(out, ScaleCanary{Replicas: r})
	}
	return out
}

// primaryRevision is the revision the primary must run: the target's until
// initialized, the canary's while promoting, the stable one otherwise (which
// also restores it after a rollback during a promotion).
func (m *canaryMachine) primaryRevision() string {
	switch {
	case m.st.StableRevision == "":
		return m.obs.Target.Revision
	case m.inFlight() && m.st.AbortedAt == nil && m.st.PromotingAt != nil:
		return m.st.CanaryRevision
	}
	return m.st.StableRevision
}

// desiredWeight is the canary weight the router must carry, and false when
// Next has no opinion yet (the primary is not ready to take traffic).
func (m *canaryMachine) desiredWeight() (int32, bool) {
	switch {
	case m.st.StableRevision == "":
		// Why: create the route only once the primary can serve all of it.
		return 0, m.obs.Primary.readyAt(m.obs.Target.Revision)
	case !m.inFlight(), m.st.AbortedAt != nil:
		return 0, true
	case m.st.PromotingAt != nil:
		// Why: the canary keeps its traffic until the primary can take it
		// all; a canary promoted before it had any keeps none.
		if m.obs.Primary.readyAt(m.st.CanaryRevision) || !m.trafficStarted() {
			return 0, true
		}
		return m.weight(), true
	case !m.trafficStarted() && !m.gateOpen():
		return 0, true
	}
	return m.weight(), true
}

// canaryReplicas is the size of the target Deployment, and false when Next
// leaves it alone (before initialization it serves the user's traffic).
func (m *canaryMachine) canaryReplicas() (int32, bool) {
	up := max(m.obs.Primary.DesiredReplicas, 1)
	switch {
	case m.st.StableRevision == "":
		return 0, false
	case !m.inFlight(), m.st.AbortedAt != nil:
		return 0, true
	case m.st.PromotingAt != nil:
		// Why: the canary serves until the router reports it has no weight.
		if m.obs.Primary.readyAt(m.st.CanaryRevision) && m.obs.Route.Exists && m.obs.Route.CanaryWeight == 0 {
			return 0, true
		}
	}
	return up, true
}

// hooksToRun returns the hooks whose turn it is and that have not finished
// (not started, or Running).
func (m *canaryMachine) hooksToRun() (v1alpha1.CanaryHookType, []string) {
	typ, ok := m.hookStage()
	if !ok {
		return "", nil
	}
	return typ, gateOf(canaryHooksOf(m.spec, typ), m.st.Hooks, m.st.CanaryRevision).pending
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
		done := m.obs.Primary.readyAt(rev) && m.obs.Route.Exists && m.obs.Route.CanaryWeight == 0
		return v1alpha1.HookPostRollout, done
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
// poll while waiting on something read without a watch. Zero when only a
// person or a watched object can move the release.
func (m *canaryMachine) requeue() time.Duration {
	var at []time.Time
	poll := m.now.Add(PollInterval)
	if m.hookRunning() {
		// Why: the shell progresses Running hook runs on each reconcile.
		at = append(at, poll)
	}
	switch {
	case m.st.StableRevision == "":
		at = append(at, poll)
	case !m.inFlight(), m.st.PausedAt != nil:
	case m.st.AbortedAt != nil:
	case m.st.PromotingAt != nil:
		at = append(at, poll, m.st.PromotingAt.Add(m.progressDeadline()))
	default:
		at = m.releaseTimers(poll)
	}
	return soonest(m.now.Time, at)
}

// releaseTimers are the moments a running release may move on its own.
func (m *canaryMachine) releaseTimers(poll time.Time) []time.Time {
	at := []time.Time{}
	if deadline, ok := m.readyDeadline(); ok {
		at = append(at, deadline)
	}
	if m.st.StepStartedAt == nil || m.obs.Target.ReadyReplicas == 0 {
		return append(at, poll)
	}
	if m.spec.Analysis != nil {
		at = append(at, nextCheckAt(m.spec.Analysis, m.st.Analysis, m.st.StepStartedAt.Time))
	}
	if i := int(m.st.CurrentStep); i < len(m.spec.Steps) {
		if p := m.spec.Steps[i].Pause; p != nil && p.Duration != nil {
			at = append(at, m.st.StepStartedAt.Add(p.Duration.Duration))
		}
	}
	return at
}

// startHookRuns records a Running run, started now, for each hook whose turn
// it is and that has no run in this release attempt. Why in status: the run
// is the hook's memory (the webhook's attempts, the Job's start), so a
// restarted operator continues it instead of starting another.
func (m *canaryMachine) startHookRuns() {
	typ, names := m.hooksToRun()
	m.st.Hooks = startRuns(m.st.Hooks, string(typ), names, m.st.CanaryRevision, m.now)
}

// hookRunning reports whether a run of the release in flight is Running.
func (m *canaryMachine) hookRunning() bool {
	return anyRunning(m.st.Hooks, m.st.CanaryRevision)
}
