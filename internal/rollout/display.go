package rollout

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// maxDisplayMessage bounds status.message, so that `kubectl get` stays one
// readable line per release.
const maxDisplayMessage = 80

// CanaryStepLabel is the step in progress counted from 1 with the number of
// steps, such as "2/6", for display; "6/6" once every step passed, and
// empty when no release is in flight.
func CanaryStepLabel(steps int, st v1alpha1.CanaryStatus) string {
	if !canaryInFlight(st) || st.StableRevision == "" || steps == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", min(int(st.CurrentStep)+1, steps), steps)
}

// DisplayMessage says in a few words what a release does, waits for, or why
// it stopped: the first clause of the message of the condition that is True
// among Stalled, Reconciling and Ready (in that order), cut to 80
// characters. It is for display only.
func DisplayMessage(conds []metav1.Condition) string {
	for _, typ := range []string{v1alpha1.ConditionStalled, v1alpha1.ConditionReconciling, v1alpha1.ConditionReady} {
		c := meta.FindStatusCondition(conds, typ)
		if c == nil || c.Status != metav1.ConditionTrue {
			continue
		}
		return shorten(c.Message)
	}
	return ""
}

// shorten keeps the first clause of msg (up to "; ") within
// maxDisplayMessage characters.
func shorten(msg string) string {
	if i := strings.Index(msg, "; "); i >= 0 {
		msg = msg[:i]
	}
	if utf8.RuneCountInString(msg) <= maxDisplayMessage {
		return msg
	}
	r := []rune(msg)
	return strings.TrimSpace(string(r[:maxDisplayMessage-1])) + "…"
}

// waitingForTarget is the health of a release object whose target
// Deployment does not exist (yet): under GitOps the release object often
// arrives first, so this is waiting (Reconciling), not a stalled spec.
func waitingForTarget(name string) health {
	return health{reconciling: true, reason: v1alpha1.ReasonWaitingForTarget, message: fmt.Sprintf(
		"waiting for Deployment %s to exist; the release starts when it is created (check spec.targetRef.name if it already exists)", name)}
}
