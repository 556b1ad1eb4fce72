package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// DefaultDrainDelay is the CRD's default drainDelay: how long the canary keeps
// its pods after the router reports it carries no traffic.
const DefaultDrainDelay = 10 * time.Second

// A promotion never changes a pod that serves traffic. It goes through these
// sub-phases, each derived from status (timestamps) and what was observed:
//
//  1. promotingAt set: the canary is scaled to the primary's size; once every
//     canary pod is ready the router is asked for 100% on the canary.
//  2. canaryFullAt set (the router reported 100% on a fully ready canary):
//     the primary takes the new template while it serves nothing, and once
//     it runs it, settled, with every pod ready, the router is asked for 0%.
//  3. drainStartedAt set (the router reported 0%): post-rollout hooks run;
//     drainDelay later the revision is stable and the canary is scaled to
//     zero.
//
// A rollback from step 1 sends traffic straight back to the primary, which
// was never touched. From step 2 on, the primary may run the new template:
// the canary (fully ready, untouched) takes all traffic again, the primary
// gets its stable template back, and only once it is settled and ready does
// traffic return to it. In every case the canary is scaled to zero only
// drainDelay after the router reported 0%.

// startPromotion begins promoting once every step has passed, the last check
// (with analysis) passed and every confirm-promotion hook succeeded. Why the
// check again: a step may end on time while the last check said "no data",
// and no data never promotes.
func (m *canaryMachine) startPromotion() bool {
	if !m.promotionGateOpen() {
		return false
	}
	why := fmt.Sprintf("every step passed for revision %s", m.st.CanaryRevision)
	if passed, ok := m.takeEvent(EventStepAdvanced); ok {
		// Why one event: the last step passed in this same evaluation, and
		// the Promoting event says so ("step 4/4 (pause 10s) passed; every
		// step passed for revision ...").
		why = strings.TrimSuffix(passed, "; "+everyStepPassed) + "; " + why
	}
	m.beginPromotion(why)
	return true
}

func (m *canaryMachine) promotionGateOpen() bool {
	if m.spec.Analysis != nil {
		if v := verdict(m.spec.Analysis, m.st.Analysis); v != VerdictPass && v != VerdictPromote {
			return false
		}
	}
	g := m.gate(string(v1alpha1.HookConfirmPromotion), m.st.CanaryRevision)
	return len(g.pending) == 0 && g.failed == ""
}

// beginPromotion stamps promotingAt. Why currentStep stays: until the canary
// is ready at full size it keeps its step's weight, and after promote-full
// the weight must not jump to the last step's.
func (m *canaryMachine) beginPromotion(why string) {
	now := m.now
	m.st.PromotingAt = &now
	m.st.PausedAt = nil
	m.st.CanaryFullAt = nil
	m.st.DrainStartedAt = nil
	m.st.HeldWeight = nil
	m.record(EventNormal, EventPromoting, why+
		"; the canary takes all traffic at full size, then the primary takes the new template")
}

// advancePromotion takes the next transition of a promotion (see the
// sub-phases above).
func (m *canaryMachine) advancePromotion() bool {
	rev := m.st.CanaryRevision
	switch {
	case m.st.DrainStartedAt != nil:
		return m.finishPromotion()
	case !m.now.Time.Before(m.st.PromotingAt.Add(m.progressDeadline())):
		// Why: a promotion that cannot get the canary to full size, or the
		// primary to run the new template, in time must go back to the
		// stable revision rather than hang half-way.
		m.rollback(v1alpha1.ReasonProgressDeadline, fmt.Sprintf("promotion not done within %s: %s",
			m.progressDeadline(), m.promotionProgress()))
		return true
	case m.st.CanaryFullAt == nil:
		// Why the read-back: the primary may change only once the router
		// says no request goes to it any more.
		if !m.canaryFull() || !m.routeReads(100) {
			return false
		}
		now := m.now
		m.st.CanaryFullAt = &now
		m.record(EventNormal, EventTrafficOnCanary, fmt.Sprintf(
			"100%% of traffic on canary %s (%d/%d ready); the primary takes the new template",
			rev, m.obs.Target.ReadyReplicas, m.obs.Target.DesiredReplicas))
		return true
	case m.obs.Primary.readyAt(rev) && m.routeReads(0):
		// Why no event: the Promoted event, drainDelay later, says the
		// same (the primary ready at the revision, all traffic on it), and
		// the Reconciling condition says the canary drains until when
		// meanwhile. A drain after a rollback has its event (startDrain):
		// it is the only word that traffic has left the rolled-back pods.
		now := m.now
		m.st.DrainStartedAt = &now
		return true
	}
	return false
}

// finishPromotion makes the revision stable once the canary has drained and
// the post-rollout hooks have finished; the canary is then scaled to zero.
func (m *canaryMachine) finishPromotion() bool {
	rev := m.st.CanaryRevision
	if !m.drained() {
		return false
	}
	if g := m.gate(string(v1alpha1.HookPostRollout), rev); len(g.pending) > 0 {
		return false
	}
	m.st.StableRevision = rev
	m.st.CanaryRevision = ""
	m.st.PromotingAt = nil
	m.st.CanaryFullAt = nil
	m.st.StepStartedAt = nil
	m.st.PausedAt = nil
	m.record(EventNormal, EventPromoted, fmt.Sprintf(
		"revision %s promoted: primary ready (%d/%d replicas), 100%% of traffic on it, canary drained",
		rev, m.obs.Primary.ReadyReplicas, m.obs.Primary.DesiredReplicas))
	return true
}

// promotionProgress says where a promotion stands, for conditions and the
// progress deadline's message.
func (m *canaryMachine) promotionProgress() string {
	rev, p, t := m.st.CanaryRevision, m.obs.Primary, m.obs.Target
	switch {
	case m.st.DrainStartedAt != nil:
		return fmt.Sprintf("all traffic on the primary with revision %s; draining the canary until %s",
			rev, m.drainEnd().UTC().Format(time.RFC3339))
	case m.st.CanaryFullAt == nil && !m.canaryFull():
		return fmt.Sprintf("waiting for canary %s at the primary's size, ready (%d/%d ready, %d wanted)",
			rev, t.ReadyReplicas, t.DesiredReplicas, max(p.DesiredReplicas, 1))
	case m.st.CanaryFullAt == nil:
		return fmt.Sprintf("waiting for the router to report 100%% on the canary (now %d)", m.reportedWeight())
	case !p.readyAt(rev):
		return fmt.Sprintf("all traffic on the canary; waiting for primary to run revision %s, ready (%d/%d)",
			rev, p.ReadyReplicas, p.DesiredReplicas)
	}
	return fmt.Sprintf("primary ready with revision %s; waiting for the router to report 0%% on the canary (now %d)",
		rev, m.reportedWeight())
}

// rollback abandons the revision in flight. Traffic goes back to a pod set
// that is ready and untouched, and the canary is scaled to zero only after
// the router reports 0% and the drain delay (all derived from abortedAt in
// the actions). Stalled until a new revision or a retry. Why canaryFullAt
// stays: it says the primary may run the abandoned template.
func (m *canaryMachine) rollback(reason, msg string) {
	m.abort(reason)
	m.st.StepStartedAt = nil
	m.st.DrainStartedAt = nil
	m.record(EventWarning, EventRolledBack, fmt.Sprintf("revision %s rolled back (%s): %s",
		m.st.CanaryRevision, reason, msg))
}

// startDrain stamps drainStartedAt once the router reports no traffic on a
// canary that still has pods, at rest or after a rollback. Why a stamp: the
// drain delay must survive a restart and must not start before the weight
// is read back.
func (m *canaryMachine) startDrain() bool {
	if m.st.DrainStartedAt != nil || m.obs.Target.DesiredReplicas == 0 || !m.trafficOffCanary() {
		return false
	}
	now := m.now
	m.st.DrainStartedAt = &now
	msg := fmt.Sprintf("no traffic on the canary; it is scaled down after %s", m.drainDelay())
	// Why fold: right after the primary took over (Initialized) or a
	// rollback whose weight was already 0, the drain starts at the same
	// moment, and that event says it.
	if !m.foldIntoLast(msg, EventInitialized, EventRolledBack, EventReleaseCanceled) {
		m.emit(EventNormal, EventDraining, msg)
	}
	return true
}

// trafficOffCanary reports whether the router says every request goes to
// the primary, and the primary is one traffic may stay on: after a rollback
// from a promotion that changed it, only once it runs the stable revision
// again, ready.
func (m *canaryMachine) trafficOffCanary() bool {
	if !m.routeReads(0) {
		return false
	}
	return m.st.AbortedAt == nil || !m.primaryTouched() || m.obs.Primary.readyAt(m.st.StableRevision)
}

// primaryTouched reports whether a rolled-back promotion may have changed the
// primary's template, so that the primary must be restored before it takes
// traffic again.
func (m *canaryMachine) primaryTouched() bool {
	return m.st.CanaryFullAt != nil && m.st.DrainStartedAt == nil
}

// drained reports whether the drain delay has passed since the router
// reported no traffic on the canary.
func (m *canaryMachine) drained() bool {
	return m.st.DrainStartedAt != nil && !m.now.Time.Before(m.drainEnd())
}

// drainEnd is when the canary may be scaled down. Why the extra second:
// status keeps whole seconds, so drainStartedAt may be up to a second
// before the read-back; the canary keeps its pods at least drainDelay.
func (m *canaryMachine) drainEnd() time.Time {
	return m.st.DrainStartedAt.Add(m.drainDelay() + time.Second)
}

func (m *canaryMachine) drainDelay() time.Duration {
	if d := m.spec.DrainDelay; d != nil && d.Duration >= 0 {
		return d.Duration
	}
	return DefaultDrainDelay
}

// canaryFull reports whether the canary runs the revision in flight at the
// primary's size, settled, every pod ready: it may take all traffic.
func (m *canaryMachine) canaryFull() bool {
	return m.obs.Target.readyAt(m.st.CanaryRevision) &&
		m.obs.Target.DesiredReplicas >= max(m.obs.Primary.DesiredReplicas, 1)
}

// routeReads reports whether the router reports weight w on the canary, the
// same in every managed route.
func (m *canaryMachine) routeReads(w int32) bool {
	return m.obs.Route.carries(w)
}
