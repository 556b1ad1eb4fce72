package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestCanaryRouteProblems(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(50))

	t.Run("routes that disagree are put back in line and start no step clock", func(t *testing.T) {
		g := NewWithT(t)
		obs := observed(10*time.Second, 10)
		obs.Route.Inconsistent = true
		d := Next(spec, releasing(0, -1), obs)
		g.Expect(d.Actions).To(ContainElement(SetWeight{Weight: 10}))
		g.Expect(d.Status.StepStartedAt).To(BeNil())
		expectReplaySafe(g, spec, d, obs)
	})

	t.Run("routes that disagree at rest are set back to 0", func(t *testing.T) {
		g := NewWithT(t)
		obs := observed(0, 30)
		obs.Target = deployment("v1", 0)
		obs.Primary = deployment("v1", 3)
		obs.Route.Inconsistent = true
		d := Next(spec, stable(), obs)
		g.Expect(d.Actions).To(ContainElement(SetWeight{Weight: 0}))
	})

	t.Run("a weight drifted at rest is set back to 0", func(t *testing.T) {
		g := NewWithT(t)
		obs := observed(0, 40)
		obs.Target = deployment("v1", 0)
		obs.Primary = deployment("v1", 3)
		d := Next(spec, stable(), obs)
		g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
	})

	t.Run("a weight drifted in a paused step goes back to the step's weight", func(t *testing.T) {
		g := NewWithT(t)
		st := releasing(1, 0)
		st.PausedAt = stamp(time.Second)
		obs := observed(2*time.Second, 90)
		d := Next(spec, st, obs)
		g.Expect(d.Actions).To(ContainElement(SetWeight{Weight: 10}))
	})

	t.Run("a route Sluice cannot manage stalls the Canary with the router's reason and writes nothing", func(t *testing.T) {
		g := NewWithT(t)
		obs := observed(10*time.Second, 0)
		obs.Route = RouteState{Exists: true, Unmanageable: "cannot manage VirtualService shop/podinfo: route \"main\" not found"}
		d := Next(spec, releasing(0, -1), obs)
		g.Expect(d.Actions).To(BeEmpty())
		stalled := condition(d.Status, v1alpha1.ConditionStalled)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonRouteUnmanageable))
		g.Expect(stalled.Message).To(ContainSubstring(`route "main" not found`))
		g.Expect(d.RequeueAfter).To(Equal(BlockedRetryInterval))
	})
}

func TestCanaryRouteNotAccepted(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(50))
	const rejected = "HTTPRoute shop/podinfo rejected: Gateway shop/public: Accepted=False, reason NotAllowedByListeners"

	t.Run("a weight the implementation has not accepted starts no step clock, and the release says why", func(t *testing.T) {
		g := NewWithT(t)
		obs := observed(10*time.Second, 10)
		obs.Route.NotAccepted = rejected
		d := Next(spec, releasing(0, -1), obs)
		g.Expect(d.Status.StepStartedAt).To(BeNil())
		g.Expect(d.Status.CurrentStep).To(BeZero())
		reconciling := condition(d.Status, v1alpha1.ConditionReconciling)
		g.Expect(reconciling.Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
		g.Expect(reconciling.Message).To(ContainSubstring("NotAllowedByListeners"))
		expectReplaySafe(g, spec, d, obs)
	})

	t.Run("the same weight, once accepted, starts the step's clock", func(t *testing.T) {
		g := NewWithT(t)
		d := Next(spec, releasing(0, -1), observed(10*time.Second, 10))
		g.Expect(d.Status.StepStartedAt).To(Equal(stamp(10 * time.Second)))
	})

	t.Run("a paused step holds while its route is refused, and does not advance when its time is up", func(t *testing.T) {
		g := NewWithT(t)
		obs := observed(5*time.Minute, 10)
		obs.Route.NotAccepted = rejected
		d := Next(spec, releasing(1, 0), obs)
		g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
	})
}
