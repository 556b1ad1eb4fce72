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
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventDraining}))
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

// safeWorld is a world that fails the test when an action changes pods
// that serve traffic: the primary's template while the route does not
// read 100% on the canary, or the canary scaled to zero before the route
// read 0% for the drain delay.
type safeWorld struct {
	*world
	g          Gomega
	zeroSince  time.Time // when the route last went to 0
	inPlace    bool      // an in-place restore of the primary is expected
	primaryOps int       // template changes of an existing primary
}

func (w *safeWorld) apply(a Action, drain time.Duration) {
	switch a := a.(type) {
	case EnsurePrimary:
		if w.primary.Exists && w.primary.Revision != a.Revision {
			w.primaryOps++
			if !w.inPlace {
				w.g.Expect(w.route.CanaryWeight).To(Equal(int32(100)), "primary changed while it served traffic")
			}
		}
	case ScaleCanary:
		if a.Replicas == 0 && w.target.DesiredReplicas > 0 {
			w.g.Expect(w.route.CanaryWeight).To(BeZero(), "canary scaled down while it had traffic")
			w.g.Expect(w.now.Sub(w.zeroSince)).To(BeNumerically(">=", drain), "canary scaled down before the drain delay")
		}
	case SetWeight:
		if a.Weight == 0 && w.route.CanaryWeight != 0 {
			w.zeroSince = w.now
		}
	}
	w.world.apply(a)
}

// driveSafe reconciles like drive, through a safeWorld, until done.
func driveSafe(g Gomega, spec v1alpha1.CanarySpec, st *v1alpha1.CanaryStatus, w *safeWorld,
	done func(v1alpha1.CanaryStatus) bool, cmd *PendingCommand) {
	for range 200 {
		obs := w.observe(1)
		obs.Hooks = w.runHooks(*st)
		if cmd != nil {
			obs.Commands = []PendingCommand{*cmd}
		}
		d := Next(spec, *st, obs)
		expectReplaySafe(g, spec, d, obs)
		*st = d.Status
		for _, a := range d.Actions {
			w.apply(a, spec.DrainDelay.Duration)
		}
		w.settle()
		if done(*st) {
			return
		}
		w.now = w.now.Add(max(d.RequeueAfter, time.Second))
	}
	g.Expect(false).To(BeTrue(), "no end after 200 reconciles: %+v", *st)
}

func TestCanaryHandoverScenarios(t *testing.T) {
	spec := drainSpec()
	start := func(g Gomega) (*safeWorld, *v1alpha1.CanaryStatus) {
		w := &safeWorld{world: newWorld("v1"), g: g}
		st := &v1alpha1.CanaryStatus{}
		driveSafe(g, spec, st, w, func(st v1alpha1.CanaryStatus) bool {
			return st.StableRevision == "v1" && w.target.DesiredReplicas == 0
		}, nil)
		w.release("v2")
		return w, st
	}

	t.Run("a promotion changes the primary only under 100% on the canary and drains before scaling down", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		driveSafe(g, spec, st, w, func(st v1alpha1.CanaryStatus) bool {
			return stableAt("v2")(st) && w.target.DesiredReplicas == 0
		}, nil)
		g.Expect(w.primaryOps).To(Equal(1))
		g.Expect(w.primary.Revision).To(Equal("v2"))
		g.Expect(w.route.CanaryWeight).To(BeZero())
	})

	t.Run("an abort at each sub-phase of a promotion returns to a ready v1 primary and drains", func(t *testing.T) {
		phases := map[string]func(v1alpha1.CanaryStatus) bool{
			"canary scaling":  func(st v1alpha1.CanaryStatus) bool { return st.PromotingAt != nil },
			"canary full":     func(st v1alpha1.CanaryStatus) bool { return st.CanaryFullAt != nil },
			"primary drained": func(st v1alpha1.CanaryStatus) bool { return st.PromotingAt != nil && st.DrainStartedAt != nil },
		}
		for name, reached := range phases {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				w, st := start(g)
				driveSafe(g, spec, st, w, reached, nil)
				driveSafe(g, spec, st, w, func(st v1alpha1.CanaryStatus) bool {
					return st.AbortedAt != nil && w.target.DesiredReplicas == 0
				}, &PendingCommand{Name: v1alpha1.CommandAbort, ID: name})
				g.Expect(w.primary.Revision).To(Equal("v1"))
				g.Expect(w.primary.readyAt("v1")).To(BeTrue())
				g.Expect(w.route.CanaryWeight).To(BeZero())
				g.Expect(st.StableRevision).To(Equal("v1"))
			})
		}
	})
}

// checkHandover checks one decision against the promotion and drain rules:
// the canary is scaled to zero only once the router reported 0% for the
// drain delay; during a promotion the primary's template changes only while
// the router reports 100% on the canary, and 100% goes only to a canary
// ready at the primary's size.
func checkHandover(g Gomega, spec v1alpha1.CanarySpec, obs CanaryObserved, d CanaryDecision) {
	st := d.Status
	m := &canaryMachine{spec: spec, obs: obs, st: st, release: release{now: truncNow(obs.Now)}}
	for _, a := range d.Actions {
		switch a := a.(type) {
		case ScaleCanary:
			if a.Replicas == 0 && obs.Target.DesiredReplicas > 0 {
				g.Expect(m.routeReads(0)).To(BeTrue(), "canary scaled down with traffic on it")
				g.Expect(m.drained()).To(BeTrue(), "canary scaled down before the drain delay")
			}
		case EnsurePrimary:
			if obs.Primary.Exists && st.PromotingAt != nil && st.AbortedAt == nil {
				g.Expect(m.routeReads(100)).To(BeTrue(), "primary changed during a promotion while it served traffic")
			}
		case ReplacePrimary:
			g.Expect(m.routeReads(100)).To(BeTrue(), "primary replaced while it served traffic")
		case SetWeight:
			if a.Weight == 100 && st.PromotingAt != nil && st.CanaryFullAt == nil {
				g.Expect(m.canaryFull()).To(BeTrue(), "100%% sent to a canary not ready at full size")
			}
		}
	}
}
