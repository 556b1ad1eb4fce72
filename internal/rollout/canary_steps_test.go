package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestCanaryReleaseStart(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(50))
	unready := func(d time.Duration) CanaryObserved {
		o := observed(d, 0)
		o.Target = WorkloadState{Exists: true, Revision: "v2", DesiredReplicas: 0}
		return o
	}
	runCanaryCases(t, []canaryCase{{
		name: "start a release and scale the canary up when the target's template changes",
		spec: spec, status: stable(), obs: unready(0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CanaryRevision).To(Equal("v2"))
			g.Expect(d.Status.ReleaseStartedAt).To(Equal(stamp(0)))
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.Actions).To(Equal([]CanaryAction{ScaleCanary{Replicas: 3}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventNewRevision}))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForReady))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseProgressing))
		},
	}, {
		name: "keep the canary at weight 0 while its pods are not ready",
		spec: spec, status: releasing(0, -1), obs: func() CanaryObserved {
			o := observed(time.Minute, 0)
			o.Target.ReadyReplicas = 2
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "roll back when the canary is not ready within progressDeadlineSeconds",
		spec: spec, status: releasing(0, -1), obs: func() CanaryObserved {
			o := observed(10*time.Minute, 0)
			o.Target.ReadyReplicas = 2
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(Equal(stamp(10 * time.Minute)))
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonProgressDeadline))
			g.Expect(d.Actions).To(BeEmpty(), "the canary drains before it is scaled down")
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventRolledBack}))
			g.Expect(d.Events[0].Message).To(HaveSuffix("; no traffic on the canary; it is scaled down after 10s"),
				"the drain that starts at the same moment is said by the rollback's event")
			g.Expect(d.Events[0].Type).To(Equal(EventWarning))
		},
	}, {
		name: "set the first step's weight once the canary is ready",
		spec: spec, status: releasing(0, -1), obs: observed(time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 10}}))
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForWeight))
		},
	}, {
		name: "restart from the first step when a new revision arrives mid-release",
		spec: spec, status: releasing(2, time.Minute), obs: func() CanaryObserved {
			o := observed(5*time.Minute, 50)
			o.Target = WorkloadState{Exists: true, Revision: "v3", DesiredReplicas: 3, ReadyReplicas: 1}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CanaryRevision).To(Equal("v3"))
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(d.Status.ReleaseStartedAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(d.Events[0].Message).To(ContainSubstring("replaces revision v2"))
		},
	}, {
		name: "cancel the release when the target goes back to the stable template",
		spec: spec, status: releasing(1, time.Minute), obs: func() CanaryObserved {
			o := observed(2*time.Minute, 10)
			o.Target = deployment("v1", 3)
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CanaryRevision).To(BeEmpty())
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}), "the canary drains before it is scaled down")
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventReleaseCanceled}))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseStable))
		},
	}})
}

func TestCanarySteps(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(50), pauseStep(0))
	runCanaryCases(t, []canaryCase{{
		name: "not start the step's clock while the router reports the old weight",
		spec: spec, status: releasing(0, -1), obs: observed(time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 10}}))
		},
	}, {
		name: "start the step's clock once the router reports its weight, and go on through a step without analysis",
		spec: spec, status: releasing(0, -1), obs: observed(time.Minute, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Status.StepStartedAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventStepAdvanced}))
			g.Expect(d.RequeueAfter).To(Equal(time.Minute))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhasePaused))
		},
	}, {
		name: "hold a timed pause until its duration has passed",
		spec: spec, status: releasing(1, time.Minute), obs: observed(90*time.Second, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.RequeueAfter).To(Equal(30 * time.Second))
		},
	}, {
		name: "end a timed pause on time and ask for the next step's weight",
		spec: spec, status: releasing(1, time.Minute), obs: observed(2*time.Minute, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 50}}))
		},
	}, {
		name: "ask for the step's weight from its index, not from the weight last reported",
		spec: spec, status: releasing(2, -1), obs: observed(3*time.Minute, 37),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 50}}))
		},
	}, {
		name: "hold an untimed pause until a promote command",
		spec: spec, status: releasing(3, time.Minute), obs: observed(24*time.Hour, 50),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(3)))
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.RequeueAfter).To(BeZero())
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForPromotion))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseWaitingPromotion))
		},
	}, {
		name: "hold a step while the canary has no ready pod",
		spec: spec, status: releasing(1, time.Minute), obs: func() CanaryObserved {
			o := observed(3*time.Minute, 10)
			o.Target.ReadyReplicas = 0
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForReady))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "roll back when the canary has had no ready pod for progressDeadlineSeconds since its step started",
		spec: spec, status: releasing(1, time.Minute), obs: func() CanaryObserved {
			o := observed(11*time.Minute, 10)
			o.Target.ReadyReplicas = 0
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonProgressDeadline))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
		},
	}, {
		name: "keep a step going when only some canary pods are ready",
		spec: spec, status: releasing(1, time.Minute), obs: func() CanaryObserved {
			o := observed(11*time.Minute, 10)
			o.Target.ReadyReplicas = 1
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
		},
	}, {
		name: "start promoting after the last step when there is no analysis",
		spec: canarySpec(weightStep(10), weightStep(50)), status: releasing(1, -1), obs: observed(time.Minute, 50),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPromoting}), "one event for one moment")
			g.Expect(d.Events[0].Message).To(HavePrefix("step 2/2 (setWeight 50) passed; every step passed for revision "))
			var decided []string
			for _, r := range d.Status.History {
				decided = append(decided, r.Reason)
			}
			g.Expect(decided).To(Equal([]string{EventStepAdvanced, EventPromoting}), "the audit trail keeps both decisions")
		},
	}})
}

func TestStepWeightComesFromTheIndex(t *testing.T) {
	g := NewWithT(t)
	steps := []v1alpha1.CanaryStep{pauseStep(time.Second), weightStep(5), pauseStep(0), weightStep(20)}
	g.Expect([]int32{stepWeight(steps, 0), stepWeight(steps, 1), stepWeight(steps, 2), stepWeight(steps, 3),
		stepWeight(steps, 4)}).To(Equal([]int32{0, 5, 5, 20, 20}))
}
