package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// commanded is a healthy observation at t0+d, weight w, carrying a command.
func commanded(d time.Duration, w int32, name v1alpha1.Command) CanaryObserved {
	o := observed(d, w)
	o.Commands = []PendingCommand{{Name: name, ID: "1"}}
	return o
}

func rolledBack() v1alpha1.CanaryStatus {
	st := releasing(1, -1)
	st.AbortedAt, st.AbortReason = stamp(time.Minute), v1alpha1.ReasonAnalysisFailed
	st.Analysis = &v1alpha1.AnalysisStatus{Checks: 3, Failures: 2, LastCheckAt: stamp(time.Minute)}
	return st
}

func pausedAt(st v1alpha1.CanaryStatus, d time.Duration) v1alpha1.CanaryStatus {
	st.PausedAt = stamp(d)
	return st
}

func TestCanaryCommands(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(0), weightStep(50), pauseStep(10*time.Minute))
	runCanaryCases(t, []canaryCase{{
		name: "end an untimed pause on promote and record the command",
		spec: spec, status: releasing(1, time.Minute), obs: commanded(5*time.Minute, 10, v1alpha1.CommandPromote),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 50}}))
			g.Expect(d.Status.LastCommand).To(Equal(&v1alpha1.CommandStatus{Name: v1alpha1.CommandPromote, ID: "1",
				ProcessedAt: metav1.NewTime(at(5 * time.Minute)), Message: "moved to step 3/4"}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventCommandApplied}))
		},
	}, {
		name: "carry out a command only once per ID",
		spec: spec, status: func() v1alpha1.CanaryStatus {
			st := releasing(1, time.Minute)
			st.Commands = []v1alpha1.CommandStatus{{Name: v1alpha1.CommandPromote, ID: "1", ProcessedAt: metav1.NewTime(t0)}}
			return st
		}(),
		obs: commanded(5*time.Minute, 10, v1alpha1.CommandPromote),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Events).To(BeEmpty())
		},
	}, {
		name: "refuse promote before the canary carries any traffic",
		spec: spec, status: releasing(0, -1), obs: func() CanaryObserved {
			o := commanded(time.Minute, 0, v1alpha1.CommandPromote)
			o.Target.ReadyReplicas = 1
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("no traffic yet"))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventCommandIgnored}))
		},
	}, {
		name: "skip the remaining steps and promote on promote-full",
		spec: spec, status: releasing(1, time.Minute), obs: commanded(5*time.Minute, 10, v1alpha1.CommandPromoteFull),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)), "the weight stays at the current step's")
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}), "the ready canary takes all traffic first")
		},
	}, {
		name: "roll back on abort: all traffic to the primary at once, the canary kept until drained, stalled",
		spec: spec, status: releasing(2, time.Minute), obs: commanded(5*time.Minute, 50, v1alpha1.CommandAbort),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAborted))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Reason).To(Equal(v1alpha1.ReasonAborted))
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventRolledBack, EventCommandApplied}))
		},
	}, {
		name: "hold everything on pause",
		spec: spec, status: releasing(3, 2*time.Minute), obs: commanded(5*time.Minute, 50, v1alpha1.CommandPause),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PausedAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.RequeueAfter).To(BeZero())
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhasePaused))
			g.Expect(AnalysisDue(analysed(spec), d.Status, at(time.Hour))).To(BeFalse())
		},
	}, {
		name: "not end a timed pause step while paused by a person",
		spec: spec, status: pausedAt(releasing(3, 2*time.Minute), 5*time.Minute), obs: observed(time.Hour, 50),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(3)))
			g.Expect(d.Status.PromotingAt).To(BeNil())
		},
	}, {
		name: "resume a timed pause step where it stopped",
		spec: spec, status: pausedAt(releasing(3, 2*time.Minute), 5*time.Minute),
		obs: commanded(time.Hour, 50, v1alpha1.CommandResume),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PausedAt).To(BeNil())
			g.Expect(d.Status.StepStartedAt).To(Equal(stamp(57 * time.Minute)))
			g.Expect(d.RequeueAfter).To(Equal(7 * time.Minute))
		},
	}, {
		name: "give the provider errorLimit more tries on resume after a provider pause",
		spec: analysed(spec), status: func() v1alpha1.CanaryStatus {
			st := pausedAt(releasing(2, 2*time.Minute), 5*time.Minute)
			st.Analysis = &v1alpha1.AnalysisStatus{Checks: 3, ConsecutiveErrors: 3, LastCheckAt: stamp(5 * time.Minute)}
			return st
		}(),
		obs: commanded(6*time.Minute, 50, v1alpha1.CommandResume),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PausedAt).To(BeNil())
			g.Expect(d.Status.Analysis.ConsecutiveErrors).To(BeZero())
		},
	}, {
		name: "ignore promote after a rollback and say what to do",
		spec: spec, status: rolledBack(), obs: commanded(5*time.Minute, 0, v1alpha1.CommandPromote),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("retry"))
			g.Expect(d.Actions).To(BeEmpty(), "the canary drains before it is scaled down")
		},
	}, {
		name: "restart a rolled-back revision from step 0 on retry",
		spec: spec, status: rolledBack(), obs: commanded(5*time.Minute, 0, v1alpha1.CommandRetry),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.AbortReason).To(BeEmpty())
			g.Expect(d.Status.Analysis).To(BeNil())
			g.Expect(d.Status.ReleaseStartedAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 10}}))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		},
	}, {
		name: "ignore retry when nothing was rolled back",
		spec: spec, status: stable(), obs: func() CanaryObserved {
			o := commanded(time.Minute, 0, v1alpha1.CommandRetry)
			o.Target = deployment("v1", 0)
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventCommandIgnored}))
		},
	}, {
		name: "ignore an unknown command and list the known ones",
		spec: spec, status: releasing(1, time.Minute), obs: commanded(time.Minute, 10, "launch"),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("promote-full"))
		},
	}})
}

func TestCanaryRollback(t *testing.T) {
	spec := withHooks(canarySpec(weightStep(10), weightStep(50)), hook("page", v1alpha1.HookRollback))
	runCanaryCases(t, []canaryCase{{
		name: "stay rolled back and stalled while the target keeps the rolled-back revision",
		spec: spec, status: rolledBack(), obs: func() CanaryObserved {
			o := observed(time.Hour, 0)
			o.Target.DesiredReplicas, o.Target.ReadyReplicas = 0, 0
			o.Hooks = []v1alpha1.HookStatus{hookRun("page", v1alpha1.HookRollback, "v2", v1alpha1.HookSucceeded)}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.AbortedAt).To(Equal(stamp(time.Minute)))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Reason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(condition(d.Status, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(d.RequeueAfter).To(BeZero())
		},
	}, {
		name: "run the rollback hooks for the rolled-back revision",
		spec: spec, status: rolledBack(), obs: observed(2*time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{running("page", v1alpha1.HookRollback, 2*time.Minute)}))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "start over when a new revision arrives after a rollback",
		spec: spec, status: rolledBack(), obs: func() CanaryObserved {
			o := observed(time.Hour, 0)
			o.Target = deployment("v3", 3)
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.CanaryRevision).To(Equal("v3"))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 10}}))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		},
	}, {
		name: "become ready again when the target goes back to the stable revision after a rollback",
		spec: spec, status: rolledBack(), obs: func() CanaryObserved {
			o := observed(time.Hour, 0)
			o.Target = deployment("v1", 0)
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		},
	}})
}
