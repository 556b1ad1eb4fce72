package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// lost is observed(d, w) with the target Deployment gone.
func lost(d time.Duration, w int32) CanaryObserved {
	o := observed(d, w)
	o.Target = WorkloadState{}
	return o
}

func TestCanaryTargetLost(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(25), pauseStep(0))
	abort := &PendingCommand{Name: v1alpha1.CommandAbort, ID: "a1"}
	runCanaryCases(t, []canaryCase{{
		name: "send everything back to the primary at once when the target goes mid-release, and say why",
		spec: spec, status: releasing(2, time.Minute), obs: lost(2*time.Minute, 25),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval), "the weight is read back soon")
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventTargetLost}))
			g.Expect(d.Status.CurrentStep).To(BeZero(), "the release restarts from step 0 when the target is back")
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(d.Status.CanaryRevision).To(Equal("v2"))
			g.Expect(d.Status.AbortedAt).To(BeNil())
			stalled := condition(d.Status, v1alpha1.ConditionStalled)
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonTargetNotFound))
			g.Expect(stalled.Message).To(ContainSubstring("all traffic goes to the primary"))
		},
	}, {
		name: "write nothing once the route carries 0 while the target is gone",
		spec: spec, status: func() v1alpha1.CanaryStatus {
			st := releasing(0, -1)
			st.CanaryWeight = 0
			return st
		}(), obs: lost(3*time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Events).To(BeEmpty())
			g.Expect(d.RequeueAfter).To(Equal(BlockedRetryInterval))
		},
	}, {
		name: "apply an abort while the target is gone: recorded now, and the weight goes to 0",
		spec: spec, status: releasing(2, time.Minute), obs: func() CanaryObserved {
			o := lost(2*time.Minute, 25)
			o.Commands = []PendingCommand{*abort}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).NotTo(BeNil(), "the abort applies to the release in flight")
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAborted))
			g.Expect(d.Status.LastCommand).NotTo(BeNil())
			g.Expect(d.Status.LastCommand.ID).To(Equal("a1"))
			g.Expect(eventReasons(d.Events)).To(ContainElement(EventCommandApplied))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
		},
	}, {
		name: "keep an abort applied while the target was gone when it comes back with the same revision",
		spec: spec, status: func() v1alpha1.CanaryStatus {
			st := releasing(0, -1)
			st.AbortedAt, st.AbortReason = stamp(time.Minute), v1alpha1.ReasonAborted
			st.LastCommand = &v1alpha1.CommandStatus{Name: v1alpha1.CommandAbort, ID: "a1", ProcessedAt: *stamp(time.Minute)}
			st.Commands = []v1alpha1.CommandStatus{*st.LastCommand}
			return st
		}(), obs: func() CanaryObserved {
			o := observed(5*time.Minute, 0)
			o.Commands = []PendingCommand{*abort}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).NotTo(BeNil())
			g.Expect(eventReasons(d.Events)).NotTo(ContainElement(EventCommandApplied), "the abort is not applied a second time")
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventDraining}), "the rolled-back canary drains, then is scaled down")
			g.Expect(d.Status.DrainStartedAt).NotTo(BeNil())
		},
	}, {
		name: "give the returned target no traffic before its pods are ready",
		spec: spec, status: releasing(0, -1), obs: func() CanaryObserved {
			o := observed(5*time.Minute, 0)
			o.Target.ReadyReplicas = 0
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).NotTo(ContainElement(SetWeight{Weight: 10}))
			g.Expect(d.Status.StepStartedAt).To(BeNil())
		},
	}, {
		name: "keep a stable Canary whose target is gone at weight 0, changing nothing",
		spec: spec, status: stable(), obs: lost(time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Events).To(BeEmpty())
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		},
	}})
}
