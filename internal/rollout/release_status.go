package rollout

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// promotionText is what the Promoted condition says at each of its stages,
// in one kind's words.
type promotionText struct {
	// none: before a first revision is stable.
	none string
	// rolledBack: the revision in flight was rolled back.
	rolledBack string
	// releasing: a revision is in flight.
	releasing string
	// promoted: the latest revision is stable.
	promoted string
}

// promotionOf is the Promoted condition of either kind: Unknown before a
// first revision is stable (stable is ""), False while another is in flight
// (with the rollback's reason once it was rolled back), True once the latest
// revision is the stable one.
func promotionOf(rs *v1alpha1.ReleaseStatus, stable string, inFlight bool, t promotionText) promotion {
	switch {
	case stable == "":
		return promotion{status: metav1.ConditionUnknown, reason: v1alpha1.ReasonInitializing, message: t.none}
	case rs.AbortedAt != nil && inFlight:
		return promotion{status: metav1.ConditionFalse, reason: abortReason(rs), message: t.rolledBack}
	case inFlight:
		return promotion{status: metav1.ConditionFalse, reason: v1alpha1.ReasonProgressing, message: t.releasing}
	}
	return promotion{status: metav1.ConditionTrue, reason: v1alpha1.ReasonSucceeded, message: t.promoted}
}

// releasePhase is the part of the phase both kinds derive alike from
// status: Invalid for a spec stalled with one of the invalid reasons,
// WaitingForTarget, Initializing before a first revision is stable (stable
// is ""), Stable with nothing in flight, RolledBack. false leaves the phase
// of a release in flight to its kind.
func releasePhase(conds []metav1.Condition, invalid []string, stable string, inFlight bool,
	rs *v1alpha1.ReleaseStatus) (v1alpha1.Phase, bool) {
	if r := conditionReason(conds, v1alpha1.ConditionStalled, metav1.ConditionTrue); r != "" && slices.Contains(invalid, r) {
		return v1alpha1.PhaseInvalid, true
	}
	switch {
	case conditionReason(conds, v1alpha1.ConditionReconciling, metav1.ConditionTrue) == v1alpha1.ReasonWaitingForTarget:
		return v1alpha1.PhaseWaitingForTarget, true
	case stable == "":
		return v1alpha1.PhaseInitializing, true
	case !inFlight:
		return v1alpha1.PhaseStable, true
	case rs.AbortedAt != nil:
		return v1alpha1.PhaseRolledBack, true
	}
	return "", false
}
