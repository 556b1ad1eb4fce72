package rollout

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// health summarizes the decided status for Ready, Reconciling and Stalled.
func (m *canaryMachine) health() health {
	st := &m.st
	switch {
	case st.StableRevision == "":
		return health{reconciling: true, reason: v1alpha1.ReasonInitializing, message: fmt.Sprintf(
			"waiting for primary %s-primary to run revision %s, ready, with all traffic (%d/%d ready)",
			m.spec.TargetRef.Name, m.obs.Target.Revision, m.obs.Primary.ReadyReplicas, m.obs.Primary.DesiredReplicas)}
	case !m.inFlight():
		return health{ready: true, reason: v1alpha1.ReasonSucceeded,
			message: fmt.Sprintf("revision %s is stable and serves all traffic", st.StableRevision)}
	case st.AbortedAt != nil && m.primaryTouched() && !m.trafficOffCanary():
		return health{stalled: true, reason: abortReason(&st.ReleaseStatus), message: fmt.Sprintf(
			"revision %s was rolled back (%s); the canary keeps the traffic until the primary runs %s again, ready (%d/%d)",
			st.CanaryRevision, abortReason(&st.ReleaseStatus), st.StableRevision, m.obs.Primary.ReadyReplicas, m.obs.Primary.DesiredReplicas)}
	case st.AbortedAt != nil:
		return health{stalled: true, reason: abortReason(&st.ReleaseStatus), message: fmt.Sprintf(
			"revision %s was rolled back (%s); all traffic is on %s; push a new revision or run retry",
			st.CanaryRevision, abortReason(&st.ReleaseStatus), st.StableRevision)}
	}
	reason, msg := m.waitingFor()
	return health{reconciling: true, reason: reason, message: msg}
}

// waitingFor says what a release in flight waits for.
func (m *canaryMachine) waitingFor() (string, string) {
	st := &m.st
	rev, step, t := st.CanaryRevision, st.CurrentStep, m.obs.Target
	switch {
	case st.PausedAt != nil && verdict(m.spec.Analysis, st.Analysis) == VerdictPause:
		return v1alpha1.ReasonProviderUnavailable, providerPausedText(m.spec.Analysis, st.Analysis)
	case st.PausedAt != nil:
		return v1alpha1.ReasonPaused, fmt.Sprintf("paused at %s since %s; resume to continue",
			stepName(m.spec.Steps, step), st.PausedAt.UTC().Format("2006-01-02T15:04:05Z"))
	case st.PromotingAt != nil:
		return v1alpha1.ReasonPromoting, fmt.Sprintf("promoting revision %s: %s", rev, m.promotionProgress())
	case !m.trafficStarted() && !t.readyAt(rev), m.trafficStarted() && t.ReadyReplicas == 0:
		return v1alpha1.ReasonWaitingForReady, fmt.Sprintf("waiting for canary %s to be ready (%d/%d)",
			rev, t.ReadyReplicas, t.DesiredReplicas)
	case !m.trafficStarted() && !m.gateOpen():
		return v1alpha1.ReasonProgressing, "running pre-rollout hooks"
	case m.obs.Route.NotAccepted != "":
		// Why: weights the data plane has not taken are no step's weight;
		// the release holds, and says what the implementation said.
		return v1alpha1.ReasonRouteNotAccepted, fmt.Sprintf("holding at weight %d until the route's implementation accepts it: %s",
			m.reportedWeight(), m.obs.Route.NotAccepted)
	case st.StepStartedAt == nil:
		return v1alpha1.ReasonWaitingForWeight, fmt.Sprintf("waiting for the router to report weight %d (now %d)",
			m.weight(), m.reportedWeight())
	case int(step) >= len(m.spec.Steps):
		return v1alpha1.ReasonWaitingForPromotion, "every step passed; waiting for a passing check and confirm-promotion hooks"
	}
	s := m.spec.Steps[step]
	switch {
	case st.HeldWeight != nil:
		return v1alpha1.ReasonAnalysing, fmt.Sprintf("steps edited: holding weight %d until a check passes "+
			"under the new steps, then %s (%s): %s", m.weight(), stepName(m.spec.Steps, step), DescribeStep(s),
			analysisSummary(m.spec.Analysis, st.Analysis))
	case s.Pause != nil && s.Pause.Duration == nil:
		return v1alpha1.ReasonWaitingForPromotion, fmt.Sprintf("%s pauses until promoted", stepName(m.spec.Steps, step))
	case s.Pause != nil:
		return v1alpha1.ReasonPaused, fmt.Sprintf("%s pauses until %s", stepName(m.spec.Steps, step),
			st.StepStartedAt.Add(s.Pause.Duration.Duration).UTC().Format("2006-01-02T15:04:05Z"))
	case m.spec.Analysis != nil:
		return v1alpha1.ReasonAnalysing, fmt.Sprintf("%s at weight %d: %s", stepName(m.spec.Steps, step),
			m.weight(), analysisSummary(m.spec.Analysis, st.Analysis))
	}
	return v1alpha1.ReasonProgressing, fmt.Sprintf("%s at weight %d", stepName(m.spec.Steps, step), m.weight())
}

// promotion is the Promoted condition: True once the stable revision is the
// target's, False while another is in flight or was rolled back, Unknown
// before the first revision is stable.
func (m *canaryMachine) promotion() promotion {
	st := &m.st
	return promotionOf(&st.ReleaseStatus, st.StableRevision, m.inFlight(), promotionText{
		none:       "no revision is stable yet",
		rolledBack: fmt.Sprintf("revision %s was rolled back; %s stays stable", st.CanaryRevision, st.StableRevision),
		releasing:  fmt.Sprintf("revision %s is being released; %s is stable", st.CanaryRevision, st.StableRevision),
		promoted:   fmt.Sprintf("revision %s is promoted", st.StableRevision),
	})
}

// CanaryPhase derives the one-word phase shown by `kubectl get` from the rest
// of status. It is for display only: nothing decides on the stored phase.
func CanaryPhase(st v1alpha1.CanaryStatus) v1alpha1.Phase {
	invalid := []string{v1alpha1.ReasonTargetNotFound, v1alpha1.ReasonRouteNotFound, v1alpha1.ReasonInvalidSpec}
	if p, ok := releasePhase(st.Conditions, invalid, st.StableRevision, canaryInFlight(st), &st.ReleaseStatus); ok {
		return p
	}
	if st.PromotingAt != nil {
		return v1alpha1.PhasePromoting
	}
	switch conditionReason(st.Conditions, v1alpha1.ConditionReconciling, metav1.ConditionTrue) {
	case v1alpha1.ReasonPaused, v1alpha1.ReasonProviderUnavailable:
		return v1alpha1.PhasePaused
	case v1alpha1.ReasonWaitingForPromotion:
		return v1alpha1.PhaseWaitingPromotion
	}
	return v1alpha1.PhaseProgressing
}
