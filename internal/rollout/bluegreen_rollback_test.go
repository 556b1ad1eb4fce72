package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func bgCommand(o BlueGreenObserved, name v1alpha1.Command) BlueGreenObserved {
	o.Commands = []PendingCommand{{Name: name, ID: "1"}}
	return o
}

func bgAborted(st v1alpha1.BlueGreenStatus, reason string) v1alpha1.BlueGreenStatus {
	st.AbortedAt, st.AbortReason, st.PromotingAt = stamp(time.Minute), reason, nil
	return st
}

func TestBlueGreenRollback(t *testing.T) {
	spec := bgSpec()
	spec.PostPromotionAnalysis = phaseAnalysis(3)
	spec.Hooks = []v1alpha1.BlueGreenHook{bgHook("smoke", v1alpha1.HookPrePromotion),
		bgHook("e2e", v1alpha1.HookPostPromotion), bgHook("page", v1alpha1.HookBlueGreenBack)}
	failedCheck := func(o BlueGreenObserved) BlueGreenObserved { o.Check = check(v1alpha1.OutcomeFailed); return o }
	runBlueGreenCases(t, []blueGreenCase{{
		name: "give up after progressDeadline when green is not ready: green scaled down, no flip",
		spec: spec, status: bgReleasing(-1), obs: func() BlueGreenObserved {
			o := bgObserved(10 * time.Minute)
			o.Green.ReadyReplicas = 1
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonProgressDeadline))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{ScaleColor{Color: v1alpha1.ColorGreen, Replicas: 0}}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Message).To(ContainSubstring("not ready"))
		},
	}, {
		name: "fail a release whose pre-promotion hook failed: no flip, green scaled down, rollback hooks run",
		spec: spec, status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.Hooks = []v1alpha1.HookStatus{bgRun("smoke", v1alpha1.HookPrePromotion, v1alpha1.HookRunning, 0)}
			return st
		}(),
		obs: func() BlueGreenObserved {
			o := bgObserved(time.Minute)
			o.Hooks = []v1alpha1.HookStatus{bgRun("smoke", v1alpha1.HookPrePromotion, v1alpha1.HookFailed, 0)}
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonHookFailed))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{ScaleColor{Color: v1alpha1.ColorGreen, Replicas: 0}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventHookFailed, EventRolledBack}))
			g.Expect(findHook(d.Status.Hooks, "page", "v2")).NotTo(BeNil())
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Reason).To(Equal(v1alpha1.ReasonHookFailed))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseRolledBack))
		},
	}, {
		name: "flip back at once when the post-promotion analysis fails, green kept until traffic left it",
		spec: spec, status: func() v1alpha1.BlueGreenStatus {
			st := bgSwitched(0)
			st.Analysis = &v1alpha1.AnalysisStatus{Checks: 1, Failures: 1, LastCheckAt: stamp(time.Minute)}
			return st
		}(),
		obs: failedCheck(serving(bgObserved(2*time.Minute), v1alpha1.ColorGreen)),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventAnalysisFailed, EventRolledBack}))
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorBlue))
			g.Expect(d.Status.Hooks).To(BeEmpty(), "rollback hooks wait for the flip back")
		},
	}, {
		name: "flip back when a post-promotion hook fails",
		spec: spec, status: bgSwitched(0), obs: func() BlueGreenObserved {
			o := serving(bgObserved(time.Minute), v1alpha1.ColorGreen)
			o.Hooks = []v1alpha1.HookStatus{bgRun("e2e", v1alpha1.HookPostPromotion, v1alpha1.HookFailed, 0)}
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonHookFailed))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
		},
	}, {
		name: "hold a flip back while blue has no ready pod, and say so",
		spec: spec, status: bgAborted(bgSwitched(0), v1alpha1.ReasonAnalysisFailed), obs: func() BlueGreenObserved {
			o := serving(bgObserved(2*time.Minute), v1alpha1.ColorGreen)
			o.Blue.ReadyReplicas = 0
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Message).To(ContainSubstring("not ready at full size"))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "hold a flip back while blue has one ready pod of three: it could not take all the traffic",
		spec: spec, status: bgAborted(bgSwitched(0), v1alpha1.ReasonAnalysisFailed), obs: func() BlueGreenObserved {
			o := serving(bgObserved(2*time.Minute), v1alpha1.ColorGreen)
			o.Blue.ReadyReplicas = 1
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Message).To(ContainSubstring("(1/3 ready"))
		},
	}, {
		name: "flip back to blue once all its pods are ready",
		spec: spec, status: bgAborted(bgSwitched(0), v1alpha1.ReasonAnalysisFailed), obs: func() BlueGreenObserved {
			o := serving(bgObserved(2*time.Minute), v1alpha1.ColorGreen)
			o.Blue.ReadyReplicas = o.Blue.DesiredReplicas
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
		},
	}, {
		name: "record the flip back, then scale green down and run the rollback hooks",
		spec: spec, status: bgAborted(bgSwitched(0), v1alpha1.ReasonAnalysisFailed), obs: bgObserved(2 * time.Minute),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.SwitchedAt).To(BeNil())
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventSwitchedBack}))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{ScaleColor{Color: v1alpha1.ColorGreen, Replicas: 0}}))
			g.Expect(findHook(d.Status.Hooks, "page", "v2").Phase).To(Equal(v1alpha1.HookRunning))
		},
	}, {
		name: "never fail or flip on provider errors, and pause at errorLimit with ProviderUnavailable",
		spec: spec, status: func() v1alpha1.BlueGreenStatus {
			st := bgSwitched(0)
			st.Analysis = &v1alpha1.AnalysisStatus{Checks: 2, ConsecutiveErrors: 2, LastCheckAt: stamp(2 * time.Minute)}
			return st
		}(),
		obs: func() BlueGreenObserved {
			o := serving(bgObserved(3*time.Minute), v1alpha1.ColorGreen)
			o.Check = check(v1alpha1.OutcomeError)
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.PausedAt).To(Equal(stamp(3 * time.Minute)))
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonProviderUnavailable))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhasePaused))
		},
	}})
}

func TestBlueGreenCommands(t *testing.T) {
	manual := bgSpec()
	manual.AutoPromotion = ptrTo(false)
	manual.PrePromotionAnalysis = phaseAnalysis(3)
	waiting := bgReleasing(0)
	waiting.PrePromotionPassedAt = stamp(time.Minute)
	runBlueGreenCases(t, []blueGreenCase{{
		name: "switch on a promote command while waiting for one",
		spec: manual, status: waiting, obs: bgCommand(bgObserved(5*time.Minute), v1alpha1.CommandPromote),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorGreen}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPromoting, EventCommandApplied}))
		},
	}, {
		name: "refuse promote while pre-promotion checks run and point at promote-full",
		spec: manual, status: bgReleasing(0), obs: bgCommand(bgObserved(time.Minute), v1alpha1.CommandPromote),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("promote-full"))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventCommandIgnored}))
		},
	}, {
		name: "skip the running pre-promotion checks on promote-full",
		spec: manual, status: bgReleasing(0), obs: bgCommand(bgObserved(time.Minute), v1alpha1.CommandPromoteFull),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorGreen}}))
		},
	}, {
		name: "refuse promote-full before green is ready",
		spec: manual, status: bgReleasing(-1), obs: func() BlueGreenObserved {
			o := bgCommand(bgObserved(time.Minute), v1alpha1.CommandPromoteFull)
			o.Green.ReadyReplicas = 0
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "end the post-promotion checks on promote-full after the flip",
		spec: manual, status: bgSwitched(0),
		obs: bgCommand(serving(bgObserved(time.Minute), v1alpha1.ColorGreen), v1alpha1.CommandPromoteFull),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorGreen))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPromoted, EventCommandApplied}))
		},
	}, {
		name: "abort before the flip: no switch, green scaled down",
		spec: manual, status: waiting, obs: bgCommand(bgObserved(5*time.Minute), v1alpha1.CommandAbort),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAborted))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{ScaleColor{Color: v1alpha1.ColorGreen, Replicas: 0}}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Reason).To(Equal(v1alpha1.ReasonAborted))
		},
	}, {
		name: "abort after the flip returns traffic to blue",
		spec: manual, status: bgSwitched(0),
		obs: bgCommand(serving(bgObserved(time.Minute), v1alpha1.ColorGreen), v1alpha1.CommandAbort),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
		},
	}, {
		name: "pause holds the checks; refuse a pause while the Service is being switched",
		spec: manual, status: bgReleasing(0), obs: bgCommand(bgObserved(time.Minute), v1alpha1.CommandPause),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PausedAt).To(Equal(stamp(time.Minute)))
			g.Expect(BlueGreenAnalysisDue(manual, d.Status, at(time.Hour))).To(BeFalse())
			promoting := bgReleasing(0)
			promoting.PromotingAt = stamp(0)
			again := NextBlueGreen(manual, promoting, bgCommand(bgObserved(time.Minute), v1alpha1.CommandPause))
			g.Expect(again.Status.PausedAt).To(BeNil())
		},
	}, {
		name: "resume with errorLimit more tries for the provider",
		spec: manual, status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.PausedAt = stamp(time.Minute)
			st.Analysis = &v1alpha1.AnalysisStatus{Checks: 3, ConsecutiveErrors: 3, LastCheckAt: stamp(time.Minute)}
			return st
		}(),
		obs: bgCommand(bgObserved(2*time.Minute), v1alpha1.CommandResume),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PausedAt).To(BeNil())
			g.Expect(d.Status.Analysis.ConsecutiveErrors).To(BeZero())
		},
	}, {
		name: "start a rolled-back revision again on retry",
		spec: manual, status: bgAborted(bgReleasing(0), v1alpha1.ReasonHookFailed), obs: func() BlueGreenObserved {
			o := bgCommand(bgObserved(5*time.Minute), v1alpha1.CommandRetry)
			o.Green.DesiredReplicas, o.Green.ReadyReplicas = 0, 0
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.ReleaseStartedAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{EnsureColor{Color: v1alpha1.ColorGreen, Revision: "v2", Replicas: 3}}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		},
	}, {
		name: "ignore promote after a rollback and say what to do",
		spec: manual, status: bgAborted(bgReleasing(0), v1alpha1.ReasonHookFailed),
		obs: bgCommand(bgObserved(5*time.Minute), v1alpha1.CommandPromote),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("retry"))
			g.Expect(d.Status.PromotingAt).To(BeNil())
		},
	}})
}
