package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// promoting is a release of v2 past its two steps, promoting since t0+1m.
func promoting() v1alpha1.CanaryStatus {
	st := releasing(2, -1)
	st.PromotingAt = stamp(time.Minute)
	return st
}

func TestCanaryPromotion(t *testing.T) {
	spec := canarySpec(weightStep(10), weightStep(50))
	runCanaryCases(t, []canaryCase{{
		name:   "wait for confirm-promotion hooks before promoting",
		spec:   withHooks(spec, hook("approve", v1alpha1.HookConfirmPromotion)),
		status: releasing(1, -1), obs: observed(time.Minute, 50),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{running("approve", v1alpha1.HookConfirmPromotion, time.Minute)}))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseWaitingPromotion))
		},
	}, {
		name:   "promote once every confirm-promotion hook succeeded",
		spec:   withHooks(spec, hook("approve", v1alpha1.HookConfirmPromotion)),
		status: releasing(2, time.Minute), obs: func() CanaryObserved {
			o := observed(2*time.Minute, 50)
			o.Hooks = []v1alpha1.HookStatus{hookRun("approve", v1alpha1.HookConfirmPromotion, "v2", v1alpha1.HookSucceeded)}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(2 * time.Minute)))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventHookSucceeded, EventPromoting}))
		},
	}, {
		name:   "roll back when a confirm-promotion hook failed",
		spec:   withHooks(spec, hook("approve", v1alpha1.HookConfirmPromotion)),
		status: releasing(2, time.Minute), obs: func() CanaryObserved {
			o := observed(2*time.Minute, 50)
			o.Hooks = []v1alpha1.HookStatus{hookRun("approve", v1alpha1.HookConfirmPromotion, "v2", v1alpha1.HookFailed)}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonHookFailed))
			g.Expect(d.Status.PromotingAt).To(BeNil())
		},
	}})
}

func TestCanaryPreRolloutHooks(t *testing.T) {
	spec := withHooks(canarySpec(weightStep(10)), hook("migrate", v1alpha1.HookPreRollout),
		hook("cleanup", v1alpha1.HookRollback))
	withRuns := func(runs ...v1alpha1.HookStatus) CanaryObserved {
		o := observed(time.Minute, 0)
		o.Hooks = runs
		return o
	}
	runCanaryCases(t, []canaryCase{{
		name: "start pre-rollout hooks once the canary is ready, before any traffic",
		spec: spec, status: releasing(0, -1), obs: withRuns(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{running("migrate", v1alpha1.HookPreRollout, time.Minute)}))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "record a running pre-rollout hook's progress and keep the canary without traffic",
		spec: spec, status: releasing(0, -1),
		obs: withRuns(hookRun("migrate", v1alpha1.HookPreRollout, "v2", v1alpha1.HookRunning)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{hookRun("migrate", v1alpha1.HookPreRollout, "v2", v1alpha1.HookRunning)}))
			g.Expect(d.Events).To(BeEmpty())
		},
	}, {
		name: "ignore a hook run reported for another revision",
		spec: spec, status: releasing(0, -1),
		obs: withRuns(hookRun("migrate", v1alpha1.HookPreRollout, "v1", v1alpha1.HookSucceeded)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{running("migrate", v1alpha1.HookPreRollout, time.Minute)}))
		},
	}, {
		name: "ignore a run started before the release attempt, as after a retry",
		spec: spec, status: releasing(0, -1), obs: func() CanaryObserved {
			old := hookRun("migrate", v1alpha1.HookPreRollout, "v2", v1alpha1.HookFailed)
			old.StartedAt = stamp(-time.Minute)
			return withRuns(old)
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{running("migrate", v1alpha1.HookPreRollout, time.Minute)}))
		},
	}, {
		name: "send the first weight once the pre-rollout hooks succeeded",
		spec: spec, status: releasing(0, -1),
		obs: withRuns(hookRun("migrate", v1alpha1.HookPreRollout, "v2", v1alpha1.HookSucceeded)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 10}}))
		},
	}, {
		name: "roll back without any traffic when a pre-rollout hook failed, then run the rollback hooks",
		spec: spec, status: releasing(0, -1),
		obs: withRuns(hookRun("migrate", v1alpha1.HookPreRollout, "v2", v1alpha1.HookFailed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonHookFailed))
			g.Expect(d.Actions).To(BeEmpty(), "the canary had no traffic, and drains before it is scaled down")
			g.Expect(d.Status.DrainStartedAt).NotTo(BeNil())
			g.Expect(d.Status.Hooks).To(ContainElement(running("cleanup", v1alpha1.HookRollback, time.Minute)))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventHookFailed, EventRolledBack}))
		},
	}})
}
