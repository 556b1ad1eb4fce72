package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// drainSpec is a two-step spec with a 30s drain delay.
func drainSpec() v1alpha1.CanarySpec {
	spec := canarySpec(weightStep(10), weightStep(50))
	spec.DrainDelay = &metav1.Duration{Duration: 30 * time.Second}
	return spec
}

// canaryFull is promoting() once the router reported 100% on the canary at
// t0+90s.
func canaryFull() v1alpha1.CanaryStatus {
	st := promoting()
	st.CanaryFullAt = stamp(90 * time.Second)
	return st
}

// draining is canaryFull() once the router reported 0% at t0+2m.
func draining() v1alpha1.CanaryStatus {
	st := canaryFull()
	st.DrainStartedAt = stamp(2 * time.Minute)
	return st
}

// aborted is st rolled back at t0+150s by an abort command.
func aborted(st v1alpha1.CanaryStatus) v1alpha1.CanaryStatus {
	st.AbortedAt, st.AbortReason = stamp(150*time.Second), v1alpha1.ReasonAborted
	st.PromotingAt, st.StepStartedAt, st.DrainStartedAt = nil, nil, nil
	return st
}

// world at t0+d with the route at w, the primary and the target as given.
func seen(d time.Duration, w int32, primary, target WorkloadState) CanaryObserved {
	o := observed(d, w)
	o.Primary, o.Target = primary, target
	return o
}

// rolling is a Deployment at rev whose rollout has not settled, though it
// counts n ready pods.
func rolling(rev string, n int32) WorkloadState {
	w := deployment(rev, n)
	w.Rolling = true
	return w
}

func TestCanaryPromotionSubPhases(t *testing.T) {
	spec := drainSpec()
	post := withHooks(spec, hook("smoke", v1alpha1.HookPostRollout))
	v1, v2 := deployment("v1", 3), deployment("v2", 3)
	runCanaryCases(t, []canaryCase{{
		name: "scale the canary to the primary's size first, keeping its step's weight",
		spec: spec, status: promoting(), obs: seen(2*time.Minute, 50, v1, deployment("v2", 2)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{ScaleCanary{Replicas: 3}}))
			g.Expect(d.Status.CanaryFullAt).To(BeNil())
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Message).To(ContainSubstring("at the primary's size"))
		},
	}, {
		name: "keep the step's weight while a canary pod is not ready",
		spec: spec, status: promoting(), obs: seen(2*time.Minute, 50, v1, WorkloadState{Exists: true, Revision: "v2", DesiredReplicas: 3, ReadyReplicas: 2}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "send all traffic to the canary once it is ready at full size, leaving the primary alone",
		spec: spec, status: promoting(), obs: seen(2*time.Minute, 50, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}))
			g.Expect(d.Status.CanaryFullAt).To(BeNil())
		},
	}, {
		name: "change the primary only once the router reports 100% on the canary, and say so",
		spec: spec, status: promoting(), obs: seen(2*time.Minute, 100, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CanaryFullAt).To(Equal(stamp(2 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v2", Replicas: 3}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventTrafficOnCanary}))
		},
	}, {
		name: "put 100% back on the canary, and leave the primary alone, when the route was changed under it",
		spec: spec, status: canaryFull(), obs: seen(2*time.Minute, 40, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}))
		},
	}, {
		name: "hold all traffic on the canary while the primary rolls, however many of its pods are ready",
		spec: spec, status: canaryFull(), obs: seen(2*time.Minute, 100, rolling("v2", 3), v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Message).To(ContainSubstring("waiting for primary"))
		},
	}, {
		name: "send all traffic back to the primary once it runs the new revision, settled and ready",
		spec: spec, status: canaryFull(), obs: seen(2*time.Minute, 100, v2, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(d.Status.DrainStartedAt).To(BeNil())
		},
	}, {
		name: "start the drain once the router reports 0%, keeping the canary's pods",
		spec: spec, status: canaryFull(), obs: seen(2*time.Minute, 0, v2, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.DrainStartedAt).To(Equal(stamp(2 * time.Minute)))
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.StableRevision).To(Equal("v1"))
			g.Expect(d.Events).To(BeEmpty(), "the promotion's drain is said by Promoted, drainDelay later")
			g.Expect(d.RequeueAfter).To(Equal(31*time.Second), "drainDelay, and a second for the stamp's precision")
		},
	}, {
		name: "keep the canary's pods until the drain delay has passed",
		spec: spec, status: draining(), obs: seen(2*time.Minute+30*time.Second, 0, v2, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.StableRevision).To(Equal("v1"))
			g.Expect(d.RequeueAfter).To(Equal(time.Second))
		},
	}, {
		name: "finish the promotion after the drain delay and only then scale the canary to zero",
		spec: spec, status: draining(), obs: seen(2*time.Minute+31*time.Second, 0, v2, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.StableRevision).To(Equal("v2"))
			g.Expect(d.Status.CanaryFullAt).To(BeNil())
			g.Expect(d.Actions).To(Equal([]CanaryAction{ScaleCanary{Replicas: 0}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPromoted}))
		},
	}, {
		name: "run post-rollout hooks while the canary drains",
		spec: post, status: canaryFull(), obs: seen(2*time.Minute, 0, v2, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{running("smoke", v1alpha1.HookPostRollout, 2*time.Minute)}))
		},
	}, {
		name: "finish the promotion even when a post-rollout hook failed, with a warning",
		spec: post, status: draining(), obs: func() CanaryObserved {
			o := seen(2*time.Minute+31*time.Second, 0, v2, v2)
			o.Hooks = []v1alpha1.HookStatus{hookRun("smoke", v1alpha1.HookPostRollout, "v2", v1alpha1.HookFailed)}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.StableRevision).To(Equal("v2"))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventHookFailed, EventPromoted}))
			g.Expect(condition(d.Status, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		},
	}, {
		name: "roll back to the untouched primary when the canary cannot reach full size in time",
		spec: spec, status: promoting(), obs: seen(11*time.Minute, 50, v1, deployment("v2", 2)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonProgressDeadline))
			g.Expect(d.Status.CanaryFullAt).To(BeNil())
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}), "the canary keeps its pods until drained")
		},
	}, {
		name: "roll back with all traffic kept on the canary while the primary gets its template back",
		spec: spec, status: canaryFull(), obs: seen(11*time.Minute, 100, rolling("v2", 1), v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonProgressDeadline))
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 1}}))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Message).To(ContainSubstring("the canary keeps the traffic"))
		},
	}})
}

func TestCanaryRollbackDrains(t *testing.T) {
	spec := drainSpec()
	v1, v2 := deployment("v1", 3), deployment("v2", 3)
	runCanaryCases(t, []canaryCase{{
		name: "take the weight to 0 on rollback but keep the canary's pods",
		spec: spec, status: aborted(releasing(1, time.Minute)), obs: seen(3*time.Minute, 10, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(d.Status.DrainStartedAt).To(BeNil())
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "start the drain once the router reports 0% after a rollback",
		spec: spec, status: aborted(releasing(1, time.Minute)), obs: seen(3*time.Minute, 0, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.DrainStartedAt).To(Equal(stamp(3 * time.Minute)))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventDraining}))
			g.Expect(d.RequeueAfter).To(Equal(31*time.Second), "drainDelay, and a second for the stamp's precision")
		},
	}, {
		name: "scale the rolled-back canary to zero once drained",
		spec: spec, status: func() v1alpha1.CanaryStatus {
			st := aborted(releasing(1, time.Minute))
			st.DrainStartedAt = stamp(3 * time.Minute)
			return st
		}(), obs: seen(3*time.Minute+31*time.Second, 0, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{ScaleCanary{Replicas: 0}}))
			g.Expect(d.RequeueAfter).To(BeZero())
		},
	}, {
		name: "send traffic straight back to the primary on an abort before the canary had it all",
		spec: spec, status: aborted(promoting()), obs: seen(3*time.Minute, 50, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
		},
	}, {
		name: "keep all traffic on the canary and restore the primary on an abort while the primary rolls",
		spec: spec, status: aborted(canaryFull()), obs: seen(3*time.Minute, 100, rolling("v2", 2), v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 2}}))
			g.Expect(d.Status.CanaryFullAt).To(Equal(stamp(90 * time.Second)))
		},
	}, {
		name: "hold the canary's traffic until the restored primary is settled",
		spec: spec, status: aborted(canaryFull()), obs: seen(3*time.Minute, 100, rolling("v1", 3), v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.DrainStartedAt).To(BeNil())
		},
	}, {
		name: "move traffic back once the restored primary is ready, then drain",
		spec: spec, status: aborted(canaryFull()), obs: seen(3*time.Minute, 100, v1, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
		},
	}, {
		name: "not drain a canary whose weight reads 0 while the primary still runs the rolled-back revision",
		spec: spec, status: aborted(draining()), obs: seen(3*time.Minute, 0, v2, v2),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}), "the canary takes the traffic before the primary changes")
			g.Expect(d.Status.DrainStartedAt).To(BeNil())
		},
	}, {
		name: "restore the primary where it stands when the canary has no ready pod to take the traffic",
		spec: spec, status: aborted(draining()), obs: seen(3*time.Minute, 0, v2, WorkloadState{Exists: true, Revision: "v2", DesiredReplicas: 3}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 3}}))
		},
	}, {
		name: "refuse a retry while the primary is being restored",
		spec: spec, status: aborted(canaryFull()), obs: func() CanaryObserved {
			o := seen(3*time.Minute, 100, rolling("v1", 3), v2)
			o.Commands = []PendingCommand{{Name: v1alpha1.CommandRetry, ID: "1"}}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).NotTo(BeNil())
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("still being restored"))
		},
	}, {
		name: "drain the user's pods after initialization before scaling them to zero",
		spec: spec, status: v1alpha1.CanaryStatus{}, obs: seen(time.Minute, 0, deployment("v1", 3), deployment("v1", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.StableRevision).To(Equal("v1"))
			g.Expect(d.Status.DrainStartedAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "drain the canary of a release canceled by a revert",
		spec: spec, status: releasing(1, time.Minute), obs: seen(3*time.Minute, 0, v1, deployment("v1", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CanaryRevision).To(BeEmpty())
			g.Expect(d.Status.DrainStartedAt).To(Equal(stamp(3 * time.Minute)))
			g.Expect(d.Actions).To(BeEmpty())
		},
	}})
}
