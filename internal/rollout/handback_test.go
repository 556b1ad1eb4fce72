package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestHandBack(t *testing.T) {
	handedBackAt := func(d time.Duration) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionHandedBack, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonTrafficHandedBack, LastTransitionTime: metav1.NewTime(at(d))}}
	}
	cases := []struct {
		name   string
		conds  []metav1.Condition
		obs    HandBackObserved
		expect func(g Gomega, d HandBackDecision)
	}{{
		name: "scale the target held at zero to the primary's size, and move no traffic yet",
		obs:  HandBackObserved{Now: at(0), Target: WorkloadState{Exists: true, Revision: "v1"}, Serving: deployment("v1", 3)},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.ScaleTarget).To(HaveValue(Equal(int32(3))))
			g.Expect(d.MoveTraffic).To(BeFalse())
			g.Expect(d.Release).To(BeFalse())
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
			c := meta.FindStatusCondition(d.Conditions, v1alpha1.ConditionHandedBack)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Message).To(ContainSubstring("waiting for the target Deployment to have 3 ready pods (0 ready)"))
		},
	}, {
		name: "wait while the target has fewer ready pods than the primary serves with",
		obs: HandBackObserved{Now: at(0), Target: WorkloadState{Exists: true, Revision: "v1", DesiredReplicas: 3, ReadyReplicas: 2},
			Serving: deployment("v1", 3)},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.ScaleTarget).To(BeNil())
			g.Expect(d.MoveTraffic).To(BeFalse())
			g.Expect(meta.FindStatusCondition(d.Conditions, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonHandingBack))
		},
	}, {
		name: "move the traffic once every target pod is ready, and start the drain",
		obs:  HandBackObserved{Now: at(0), Target: deployment("v2", 3), Serving: deployment("v1", 3)},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.MoveTraffic).To(BeTrue())
			g.Expect(d.Release).To(BeFalse(), "the old pods drain first")
			g.Expect(d.RequeueAfter).To(Equal(HandBackDrain))
			c := meta.FindStatusCondition(d.Conditions, v1alpha1.ConditionHandedBack)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.LastTransitionTime.Time).To(Equal(at(0)))
		},
	}, {
		name:  "keep draining until the drain is over, asking for the traffic to stay moved",
		conds: handedBackAt(0),
		obs:   HandBackObserved{Now: at(time.Second), Target: deployment("v2", 3), Serving: deployment("v1", 3)},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.MoveTraffic).To(BeTrue())
			g.Expect(d.Release).To(BeFalse())
			g.Expect(d.RequeueAfter).To(Equal(HandBackDrain - time.Second))
		},
	}, {
		name:  "let go once the drain is over",
		conds: handedBackAt(0),
		obs:   HandBackObserved{Now: at(HandBackDrain), Target: deployment("v2", 3), Serving: deployment("v1", 3)},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.Release).To(BeTrue())
			g.Expect(d.RequeueAfter).To(BeZero())
		},
	}, {
		name: "move the traffic at once when the target is gone: there is nothing to wait for",
		obs:  HandBackObserved{Now: at(0), Serving: deployment("v1", 3)},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.MoveTraffic).To(BeTrue())
			g.Expect(d.ScaleTarget).To(BeNil())
		},
	}, {
		name: "never wait for a target that is not ready when nothing of Sluice's serves: nothing depends on it",
		obs:  HandBackObserved{Now: at(0), Target: WorkloadState{Exists: true, DesiredReplicas: 2, ReadyReplicas: 0}},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.ScaleTarget).To(BeNil())
			g.Expect(d.MoveTraffic).To(BeTrue())
		},
	}, {
		name: "scale a target held at zero to one pod and wait for it when Sluice's copy is gone",
		obs:  HandBackObserved{Now: at(0), Target: WorkloadState{Exists: true}},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.ScaleTarget).To(HaveValue(Equal(int32(1))))
			g.Expect(d.MoveTraffic).To(BeFalse())
		},
	}, {
		name: "keep the target's own size when nothing of Sluice's serves",
		obs:  HandBackObserved{Now: at(0), Target: WorkloadState{Exists: true, DesiredReplicas: 2, ReadyReplicas: 2}},
		expect: func(g Gomega, d HandBackDecision) {
			g.Expect(d.ScaleTarget).To(BeNil())
			g.Expect(d.MoveTraffic).To(BeTrue())
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			d := HandBack(c.conds, c.obs)
			c.expect(g, d)
			again := HandBack(d.Conditions, c.obs)
			g.Expect(again.Conditions).To(Equal(d.Conditions), "a replay changes no condition")
		})
	}
}
