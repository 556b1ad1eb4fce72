package rollout

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// appendRecord adds rec to the audit trail and keeps only the newest
// v1alpha1.MaxDecisionRecords entries, so status stays small however long an
// object lives. It never modifies the slice it is given.
func appendRecord(history []v1alpha1.DecisionRecord, rec v1alpha1.DecisionRecord) []v1alpha1.DecisionRecord {
	keep := history
	if over := len(keep) + 1 - v1alpha1.MaxDecisionRecords; over > 0 {
		keep = keep[over:]
	}
	out := make([]v1alpha1.DecisionRecord, 0, len(keep)+1)
	out = append(out, keep...)
	return append(out, rec)
}

// decision builds an audit record stamped with now.
func decision(now metav1.Time, reason, revision string, step, weight int32, msg string) v1alpha1.DecisionRecord {
	return v1alpha1.DecisionRecord{
		Time: now, Reason: reason, Revision: revision, Step: step, Weight: weight, Message: msg,
	}
}
