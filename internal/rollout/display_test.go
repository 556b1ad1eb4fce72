package rollout

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestCanaryStepLabel(t *testing.T) {
	inFlight := func(step int32) v1alpha1.CanaryStatus {
		return v1alpha1.CanaryStatus{StableRevision: "v1", CanaryRevision: "v2", CurrentStep: step}
	}
	for _, tc := range []struct {
		name  string
		steps int
		st    v1alpha1.CanaryStatus
		want  string
	}{
		{"counts the step in progress from 1 with the total", 6, inFlight(1), "2/6"},
		{"shows the last step once every step passed", 6, inFlight(6), "6/6"},
		{"keeps the step where a rolled-back release stopped", 6, func() v1alpha1.CanaryStatus {
			st := inFlight(2)
			st.AbortedAt = &metav1.Time{}
			return st
		}(), "3/6"},
		{"is empty at rest", 6, v1alpha1.CanaryStatus{StableRevision: "v1", CanaryRevision: "v1", CurrentStep: 6}, ""},
		{"is empty before the first revision is stable", 6, v1alpha1.CanaryStatus{CanaryRevision: "v1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(CanaryStepLabel(tc.steps, tc.st)).To(Equal(tc.want))
		})
	}
}

func TestDisplayMessage(t *testing.T) {
	cond := func(typ string, s metav1.ConditionStatus, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Message: msg}
	}
	t.Run("prefers Stalled and keeps its first clause", func(t *testing.T) {
		g := NewWithT(t)
		got := DisplayMessage([]metav1.Condition{
			cond(v1alpha1.ConditionReady, metav1.ConditionFalse, "ready message"),
			cond(v1alpha1.ConditionReconciling, metav1.ConditionFalse, "reconciling message"),
			cond(v1alpha1.ConditionStalled, metav1.ConditionTrue, "revision v2 was rolled back (AnalysisFailed); all traffic is on v1"),
		})
		g.Expect(got).To(Equal("revision v2 was rolled back (AnalysisFailed)"))
	})
	t.Run("says what a release in flight waits for", func(t *testing.T) {
		g := NewWithT(t)
		got := DisplayMessage([]metav1.Condition{
			cond(v1alpha1.ConditionReady, metav1.ConditionFalse, "x"),
			cond(v1alpha1.ConditionReconciling, metav1.ConditionTrue, "waiting for canary v2 to be ready (1/2)"),
		})
		g.Expect(got).To(Equal("waiting for canary v2 to be ready (1/2)"))
	})
	t.Run("cuts a long message to 80 characters", func(t *testing.T) {
		g := NewWithT(t)
		got := DisplayMessage([]metav1.Condition{cond(v1alpha1.ConditionReady, metav1.ConditionTrue, strings.Repeat("abcd ", 40))})
		g.Expect([]rune(got)).To(HaveLen(80))
		g.Expect(got).To(HaveSuffix("…"))
	})
	t.Run("is empty when no condition is True", func(t *testing.T) {
		NewWithT(t).Expect(DisplayMessage(nil)).To(BeEmpty())
	})
}
