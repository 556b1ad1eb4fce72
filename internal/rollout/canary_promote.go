package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// startPromotion begins promoting once every step has passed, the last check
// (with analysis) passed and every confirm-promotion hook succeeded. Why the
// check again: a step may end on time while the last check said "no data",
// and no data never promotes.
func (m *canaryMachine) startPromotion() bool {
	if !m.promotionGateOpen() {
		return false
	}
	m.beginPromotion(fmt.Sprintf("every step passed for revision %s", m.st.CanaryRevision))
	return true
}

func (m *canaryMachine) promotionGateOpen() bool {
	if m.spec.Analysis != nil {
		if v := verdict(m.spec.Analysis, m.st.Analysis); v != VerdictPass && v != VerdictPromote {
			return false
		}
	}
	g := gateOf(canaryHooksOf(m.spec, v1alpha1.HookConfirmPromotion), m.st.Hooks, m.st.CanaryRevision)
	return len(g.pending) == 0 && g.failed == ""
}

// beginPromotion stamps promotingAt; the primary then takes the canary's
// template while the canary keeps its step's weight. Why currentStep stays:
// after promote-full the weight must not jump to the last step's.
func (m *canaryMachine) beginPromotion(why string) {
	now := m.now
	m.st.PromotingAt = &now
	m.st.PausedAt = nil
	m.st.HeldWeight = nil
	m.record(EventNormal, EventPromoting, why+"; primary takes the new template")
}

// advancePromotion finishes a promotion: the primary runs the new revision
// with every pod ready, the router reports 100% on the primary, and the
// post-rollout hooks have finished. Why this order: traffic leaves the canary
// only once the primary can serve the new version, so no request meets a
// half-updated primary alone.
func (m *canaryMachine) advancePromotion() bool {
	rev := m.st.CanaryRevision
	if !m.obs.Primary.readyAt(rev) {
		if !m.now.Time.Before(m.st.PromotingAt.Add(m.progressDeadline())) {
			// Why: a primary that cannot run the new template in time must
			// go back to the stable one rather than hang half-updated.
			m.rollback(v1alpha1.ReasonProgressDeadline, fmt.Sprintf(
				"primary not ready with revision %s (%d/%d replicas) within %s of promoting",
				rev, m.obs.Primary.ReadyReplicas, m.obs.Primary.DesiredReplicas, m.progressDeadline()))
			return true
		}
		return false
	}
	if m.reportedWeight() != 0 || !m.obs.Route.Exists {
		return false
	}
	if g := gateOf(canaryHooksOf(m.spec, v1alpha1.HookPostRollout), m.st.Hooks, rev); len(g.pending) > 0 {
		return false
	}
	m.st.StableRevision = rev
	m.st.CanaryRevision = ""
	m.st.PromotingAt = nil
	m.st.StepStartedAt = nil
	m.st.PausedAt = nil
	m.record(EventNormal, EventPromoted, fmt.Sprintf(
		"revision %s promoted: primary ready (%d/%d replicas), 100%% of traffic on it",
		rev, m.obs.Primary.ReadyReplicas, m.obs.Primary.DesiredReplicas))
	return true
}

// rollback abandons the revision in flight: all traffic back to the primary
// at once, the canary scaled to zero (both follow from abortedAt in the
// actions), Stalled until a new revision or a retry.
func (m *canaryMachine) rollback(reason, msg string) {
	now := m.now
	m.st.AbortedAt = &now
	m.st.AbortReason = reason
	m.st.PromotingAt = nil
	m.st.PausedAt = nil
	m.st.StepStartedAt = nil
	m.record(EventWarning, EventRolledBack, fmt.Sprintf("revision %s rolled back (%s): %s",
		m.st.CanaryRevision, reason, msg))
}
