package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// routeHeld is o with the route's implementation not accepting it: no
// color read back.
func routeHeld(o BlueGreenObserved, why string) BlueGreenObserved {
	o.ActiveService = ServiceState{Exists: true, NotAccepted: why}
	return o
}

func TestBlueGreenRouteNotReadBack(t *testing.T) {
	spec := bgSpec()
	spec.PostPromotionAnalysis = phaseAnalysis(3)
	promoting := bgReleasing(0)
	promoting.PrePromotionPassedAt, promoting.PromotingAt = stamp(0), stamp(0)
	const refused = `HTTPRoute shop/podinfo rejected: Gateway shop/public: Accepted=False, reason NotAllowedByListeners`
	runBlueGreenCases(t, []blueGreenCase{{
		name: "hold a promotion whose route is refused: no switchedAt, the condition quotes the implementation",
		spec: spec, status: promoting, obs: routeHeld(bgObserved(time.Minute), refused),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.SwitchedAt).To(BeNil())
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorBlue))
			c := bgCondition(d.Status, v1alpha1.ConditionReconciling)
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
			g.Expect(c.Message).To(And(ContainSubstring("all traffic to green"), ContainSubstring("NotAllowedByListeners")))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
			// The flip is asked for again (a replayed write is a no-op in
			// the router), and nothing else is touched.
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorGreen}}))
		},
	}, {
		name: "keep the old color scaled while the route of a finished release is not read back",
		spec: spec, status: func() v1alpha1.BlueGreenStatus {
			st := bgStable()
			st.ActiveColor, st.ActiveRevision, st.ScaleDownAt = v1alpha1.ColorGreen, "v2", stamp(0)
			return st
		}(), obs: routeHeld(bgObserved(time.Hour), "HTTPRoute shop/podinfo not accepted yet: no status"),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).NotTo(ContainElement(ScaleColor{Color: v1alpha1.ColorBlue, Replicas: 0}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
		},
	}, {
		name: "start no post-promotion clock before the flip is read back",
		spec: spec, status: promoting, obs: routeHeld(bgObserved(time.Minute), refused),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(BlueGreenAnalysisDue(spec, d.Status, at(time.Hour))).To(BeFalse())
		},
	}, {
		name: "stall on a route the router cannot manage, saying why",
		spec: spec, status: bgStable(), obs: func() BlueGreenObserved {
			o := bgObserved(time.Minute)
			o.Target.Revision = "v1"
			o.ActiveService = ServiceState{Exists: true, Unmanageable: "cannot manage HTTPRoute shop/web: no rule named \"main\""}
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			c := bgCondition(d.Status, v1alpha1.ConditionStalled)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonRouteUnmanageable))
			g.Expect(c.Message).To(ContainSubstring(`no rule named "main"`))
		},
	}, {
		name: "say a rolled-back release first, and that its route is not read back",
		spec: spec, status: bgAborted(bgSwitched(0), v1alpha1.ReasonAnalysisFailed),
		obs: routeHeld(bgObserved(2*time.Minute), refused),
		expect: func(g Gomega, d BlueGreenDecision) {
			c := bgCondition(d.Status, v1alpha1.ConditionStalled)
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(c.Message).To(ContainSubstring("the route is not read back: " + refused))
			g.Expect(d.Actions).To(ContainElement(SwitchService{Color: v1alpha1.ColorBlue}))
		},
	}, {
		name: "move on once the flip is read back",
		spec: spec, status: promoting, obs: serving(bgObserved(time.Minute), v1alpha1.ColorGreen),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.SwitchedAt).NotTo(BeNil())
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).NotTo(Equal(v1alpha1.ReasonRouteNotAccepted))
		},
	}})
}
