package rollout

import (
	"fmt"
	"time"
)

// lostTarget is what Next does while the target Deployment is missing.
type lostTarget struct {
	actions []CanaryAction
	requeue time.Duration
	message string
}

// targetLost reports whether the target Deployment is missing from a
// Canary that was initialized: its primary still runs and can serve.
func (m *canaryMachine) targetLost() bool {
	return !m.obs.Target.Exists && m.st.StableRevision != ""
}

// whileTargetLost handles a target deleted or replaced mid-release (Argo CD
// Replace=true, helm --force, a selector change that forces a re-create):
// the canary Service has no pods left, so its weight goes back to 0 at once
// and the primary, which still runs, takes all the traffic. Commands keep
// working: an abort is applied and recorded now, not later on a re-created
// Deployment. A release in flight restarts from step 0, so that a target
// that comes back gets traffic only once its pods are ready again.
func (m *canaryMachine) whileTargetLost() lostTarget {
	m.applyCommands(m.obs.Commands, m)
	m.mergeHooks(m.obs.Hooks, m.st.CanaryRevision)
	if m.inFlight() && m.st.AbortedAt == nil && (m.trafficStarted() || m.st.PromotingAt != nil) {
		rev := m.st.CanaryRevision
		m.resetRelease(rev)
		m.record(EventWarning, EventTargetLost, fmt.Sprintf(
			"Deployment %s is gone: all traffic to the primary (revision %s); the release of %s restarts from step 0 when it is back",
			m.spec.TargetRef.Name, m.st.StableRevision, rev))
	}
	if m.st.AbortedAt != nil {
		// Why: rollback hooks describe the primary serving again, which it
		// does once the weight is 0; they need no target.
		m.startHooks()
	}
	out := lostTarget{message: fmt.Sprintf(
		"Deployment %s not found: all traffic goes to the primary (revision %s) until it is back; commands still apply",
		m.spec.TargetRef.Name, m.st.StableRevision)}
	if r := m.obs.Route; r.Exists && r.Unmanageable == "" && !r.carries(0) {
		out.actions = []CanaryAction{SetWeight{Weight: 0}}
		// Why: the weight is read back on the next look.
		out.requeue = PollInterval
	}
	if m.hookRunning() {
		out.requeue = PollInterval
	}
	return out
}
