package rollout

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// health is the kstatus summary of an object: at most one of ready,
// reconciling and stalled is true, and one reason and message explain it.
type health struct {
	ready       bool
	reconciling bool
	stalled     bool
	reason      string
	message     string
}

// promotion is the state of the Promoted condition.
type promotion struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

// setConditions writes Ready, Reconciling, Stalled and Promoted. All four are
// written on every visit (Unknown when nothing is known yet) so that tools
// reading them never see a half-set object; meta.SetStatusCondition keeps
// lastTransitionTime when a condition's status does not change.
func setConditions(conds *[]metav1.Condition, gen int64, now metav1.Time, h health, p promotion) {
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: gen, LastTransitionTime: now,
		})
	}
	set(v1alpha1.ConditionReady, boolStatus(h.ready), h.reason, h.message)
	set(v1alpha1.ConditionReconciling, boolStatus(h.reconciling), h.reason, h.message)
	set(v1alpha1.ConditionStalled, boolStatus(h.stalled), h.reason, h.message)
	set(v1alpha1.ConditionPromoted, p.status, p.reason, p.message)
}

func boolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

// conditionReason returns the reason of a condition when it has the given
// status, and "" otherwise.
func conditionReason(conds []metav1.Condition, typ string, status metav1.ConditionStatus) string {
	c := meta.FindStatusCondition(conds, typ)
	if c == nil || c.Status != status {
		return ""
	}
	return c.Reason
}
