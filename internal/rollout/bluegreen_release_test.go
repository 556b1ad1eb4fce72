package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestBlueGreenInit(t *testing.T) {
	fresh := func(blue WorkloadState, svc ServiceState) BlueGreenObserved {
		return BlueGreenObserved{Now: t0, Generation: 1, Target: deployment("v1", 3), Blue: blue, ActiveService: svc}
	}
	runBlueGreenCases(t, []blueGreenCase{{
		name: "deploy the first version to blue with the target's size",
		spec: bgSpec(), obs: fresh(WorkloadState{}, ServiceState{}),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{EnsureColor{Color: v1alpha1.ColorBlue, Revision: "v1", Replicas: 3}}))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseInitializing))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonInitializing))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "switch the active Service to blue only once blue is ready",
		spec: bgSpec(), obs: fresh(deployment("v1", 3), ServiceState{Exists: true}),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
			g.Expect(d.Status.ActiveColor).To(BeEmpty())
		},
	}, {
		name: "not switch to blue while its pods are not ready",
		spec: bgSpec(), obs: fresh(WorkloadState{Exists: true, Revision: "v1", DesiredReplicas: 3}, ServiceState{Exists: true}),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "become active once the Service reports blue, then scale the target to zero",
		spec: bgSpec(), obs: fresh(deployment("v1", 3), ServiceState{Exists: true, Color: v1alpha1.ColorBlue}),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorBlue))
			g.Expect(d.Status.ActiveRevision).To(Equal("v1"))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{ScaleTarget{Replicas: 0}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventInitialized}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseStable))
		},
	}, {
		name: "keep blue's size when the target was already scaled to zero before a lost status patch",
		spec: bgSpec(), obs: func() BlueGreenObserved {
			o := fresh(WorkloadState{Exists: true, Revision: "v0", DesiredReplicas: 4}, ServiceState{})
			o.Target.DesiredReplicas = 0
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{EnsureColor{Color: v1alpha1.ColorBlue, Revision: "v1", Replicas: 4}}))
		},
	}, {
		name: "wait (Reconciling, not Stalled) and change nothing while the target Deployment is missing",
		spec: bgSpec(), status: bgReleasing(0), obs: func() BlueGreenObserved {
			o := bgObserved(time.Minute)
			o.Target = WorkloadState{}
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForTarget))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseWaitingForTarget))
			g.Expect(d.Status.Message).To(HavePrefix("waiting for Deployment"))
		},
	}})
}

func TestBlueGreenRelease(t *testing.T) {
	pre := bgSpec()
	pre.PrePromotionAnalysis = phaseAnalysis(3)
	pre.Hooks = []v1alpha1.BlueGreenHook{bgHook("smoke", v1alpha1.HookPrePromotion)}
	manual := bgSpec()
	manual.AutoPromotion = ptrTo(false)
	timed := manual
	timed.AutoPromotionSeconds = ptrTo(int32(300))
	runBlueGreenCases(t, []blueGreenCase{{
		name: "deploy a new revision to the idle color with the active color's size",
		spec: bgSpec(), status: bgStable(), obs: func() BlueGreenObserved {
			o := bgObserved(0)
			o.Blue.DesiredReplicas, o.Blue.ReadyReplicas, o.Green = 5, 5, WorkloadState{}
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PreviewRevision).To(Equal("v2"))
			g.Expect(d.Status.ReleaseStartedAt).To(Equal(stamp(0)))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{EnsureColor{Color: v1alpha1.ColorGreen, Revision: "v2", Replicas: 5}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventNewRevision}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForReady))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionFalse))
		},
	}, {
		name: "start the pre-promotion hooks and schedule the first check once green is ready",
		spec: pre, status: bgReleasing(-1), obs: bgObserved(time.Minute),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PreviewReadyAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Status.Hooks).To(Equal([]v1alpha1.HookStatus{{Name: "smoke", Type: "pre-promotion",
				Revision: "v2", Phase: v1alpha1.HookRunning, StartedAt: stamp(time.Minute)}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPreviewReady}))
			g.Expect(BlueGreenAnalysisDue(pre, d.Status, at(2*time.Minute-time.Second))).To(BeFalse())
			g.Expect(BlueGreenAnalysisDue(pre, d.Status, at(2*time.Minute))).To(BeTrue())
			g.Expect(BlueGreenAnalysis(pre, d.Status)).To(Equal(&pre.PrePromotionAnalysis.Analysis))
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "hold on a no-data check: it never counts toward the passing checks",
		spec: pre, status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.Analysis = passes(2, 2*time.Minute)
			st.Hooks = []v1alpha1.HookStatus{bgRun("smoke", v1alpha1.HookPrePromotion, v1alpha1.HookSucceeded, 0)}
			return st
		}(),
		obs: func() BlueGreenObserved {
			o := bgObserved(3 * time.Minute)
			o.Check = check(v1alpha1.OutcomeNoData)
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.Analysis.Passed).To(Equal(int32(2)))
			g.Expect(d.Status.Analysis.Checks).To(Equal(int32(3)))
			g.Expect(d.Status.PrePromotionPassedAt).To(BeNil())
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "promote automatically once the hooks succeeded and the analysis has its passing checks",
		spec: pre, status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.Analysis = passes(2, 2*time.Minute)
			st.Hooks = []v1alpha1.HookStatus{bgRun("smoke", v1alpha1.HookPrePromotion, v1alpha1.HookSucceeded, 0)}
			return st
		}(),
		obs: func() BlueGreenObserved {
			o := bgObserved(3 * time.Minute)
			o.Check = check(v1alpha1.OutcomePassed)
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PrePromotionPassedAt).To(Equal(stamp(3 * time.Minute)))
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(3 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorGreen}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPromoting}), "one event for one moment")
			g.Expect(d.Events[0].Message).To(HavePrefix("pre-promotion checks of revision "))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhasePromoting))
		},
	}, {
		name: "wait for a manual promote when autoPromotion is false",
		spec: manual, status: bgReleasing(0), obs: bgObserved(time.Minute),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PrePromotionPassedAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.RequeueAfter).To(BeZero())
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseWaitingPromotion))
		},
	}, {
		name: "promote on its own autoPromotionSeconds after the checks passed",
		spec: timed, status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.PrePromotionPassedAt = stamp(time.Minute)
			return st
		}(),
		obs: bgObserved(6 * time.Minute),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(6 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorGreen}}))
		},
	}, {
		name: "requeue for the end of autoPromotionSeconds",
		spec: timed, status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.PrePromotionPassedAt = stamp(time.Minute)
			return st
		}(),
		obs: bgObserved(2 * time.Minute),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.RequeueAfter).To(Equal(4 * time.Minute))
		},
	}, {
		name: "not record the flip before the Service reports green",
		spec: bgSpec(), status: func() v1alpha1.BlueGreenStatus {
			st := bgReleasing(0)
			st.PrePromotionPassedAt, st.PromotingAt = stamp(0), stamp(0)
			return st
		}(),
		obs: bgObserved(time.Minute),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.SwitchedAt).To(BeNil())
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorGreen}}))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}})
}

func TestBlueGreenSwitch(t *testing.T) {
	post := bgSpec()
	post.PostPromotionAnalysis = phaseAnalysis(2)
	post.Hooks = []v1alpha1.BlueGreenHook{bgHook("e2e", v1alpha1.HookPostPromotion)}
	promoting := bgReleasing(0)
	promoting.PrePromotionPassedAt, promoting.PromotingAt = stamp(0), stamp(0)
	runBlueGreenCases(t, []blueGreenCase{{
		name: "record switchedAt once the Service reports green and start the post-promotion hooks",
		spec: post, status: promoting, obs: serving(bgObserved(time.Minute), v1alpha1.ColorGreen),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.SwitchedAt).To(Equal(stamp(time.Minute)))
			g.Expect(d.Status.Hooks).To(HaveLen(1))
			g.Expect(d.Status.Hooks[0].Type).To(Equal("post-promotion"))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventServiceSwitched}))
			g.Expect(d.Actions).To(BeEmpty(), "blue stays scaled up")
			g.Expect(BlueGreenAnalysis(post, d.Status)).To(Equal(&post.PostPromotionAnalysis.Analysis))
			g.Expect(d.Status.History[len(d.Status.History)-1].Weight).To(Equal(int32(100)))
		},
	}, {
		name: "succeed after the post-promotion checks: green active, blue kept for scaleDownDelay",
		spec: post, status: func() v1alpha1.BlueGreenStatus {
			st := bgSwitched(0)
			st.Analysis = passes(1, time.Minute)
			st.Hooks = []v1alpha1.HookStatus{bgRun("e2e", v1alpha1.HookPostPromotion, v1alpha1.HookSucceeded, 0)}
			return st
		}(),
		obs: func() BlueGreenObserved {
			o := serving(bgObserved(2*time.Minute), v1alpha1.ColorGreen)
			o.Check = check(v1alpha1.OutcomePassed)
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorGreen))
			g.Expect(d.Status.ActiveRevision).To(Equal("v2"))
			g.Expect(d.Status.PreviewRevision).To(BeEmpty())
			g.Expect(d.Status.ScaleDownAt).To(Equal(stamp(2*time.Minute + 30*time.Second)))
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.RequeueAfter).To(Equal(30 * time.Second))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventPromoted}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		},
	}, {
		name: "not succeed while a post-promotion hook runs",
		spec: post, status: func() v1alpha1.BlueGreenStatus {
			st := bgSwitched(0)
			st.Analysis = passes(2, time.Minute)
			st.Hooks = []v1alpha1.HookStatus{bgRun("e2e", v1alpha1.HookPostPromotion, v1alpha1.HookRunning, 0)}
			return st
		}(),
		obs: serving(bgObserved(90*time.Second), v1alpha1.ColorGreen),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorBlue))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "scale the old color down once scaleDownAt is due",
		spec: bgSpec(), status: v1alpha1.BlueGreenStatus{ObservedGeneration: 1, ActiveColor: v1alpha1.ColorGreen,
			ActiveRevision: "v2", ScaleDownAt: stamp(time.Minute)},
		obs: serving(bgObserved(time.Minute), v1alpha1.ColorGreen),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{ScaleColor{Color: v1alpha1.ColorBlue, Replicas: 0}}))
			g.Expect(d.Events).To(BeEmpty())
		},
	}, {
		name: "restart on the idle color when a new revision arrives before the flip",
		spec: bgSpec(), status: bgReleasing(0), obs: func() BlueGreenObserved {
			o := bgObserved(time.Minute)
			o.Target.Revision = "v3"
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PreviewRevision).To(Equal("v3"))
			g.Expect(d.Status.PreviewReadyAt).To(BeNil())
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{EnsureColor{Color: v1alpha1.ColorGreen, Revision: "v3", Replicas: 3}}))
		},
	}, {
		name: "return traffic to blue before deploying a revision that arrives after the flip",
		spec: bgSpec(), status: bgSwitched(0), obs: func() BlueGreenObserved {
			o := serving(bgObserved(time.Minute), v1alpha1.ColorGreen)
			o.Target.Revision = "v3"
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PreviewRevision).To(Equal("v3"))
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
			g.Expect(bgCondition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonProgressing))
		},
	}, {
		name: "cancel the release and return to blue when the target goes back to the active revision",
		spec: bgSpec(), status: bgSwitched(0), obs: func() BlueGreenObserved {
			o := serving(bgObserved(time.Minute), v1alpha1.ColorGreen)
			o.Target.Revision = "v1"
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PreviewRevision).To(BeEmpty())
			g.Expect(d.Actions).To(Equal([]BlueGreenAction{SwitchService{Color: v1alpha1.ColorBlue}}))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventReleaseCanceled}))
		},
	}})
}
