package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestRequeueIsNotTruncatedToTheSecond(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(50))
	runCanaryCases(t, []canaryCase{{
		name: "look again exactly when a timed pause ends, not up to a second later",
		spec: spec, status: releasing(1, 0), obs: observed(20*time.Second+300*time.Millisecond, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.RequeueAfter).To(Equal(39*time.Second + 700*time.Millisecond))
		},
	}, {
		name: "advance once the pause has ended, whatever the fraction of the second",
		spec: spec, status: releasing(1, 0), obs: observed(time.Minute+time.Millisecond, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
		},
	}})
	g := NewWithT(t)
	g.Expect(soonest(at(0), nil)).To(BeZero(), "nothing to wait for")
	g.Expect(soonest(at(time.Minute), []time.Time{at(0)})).To(Equal(time.Second), "a moment already past is looked at in a second")
	g.Expect(soonest(at(0), []time.Time{at(3 * time.Millisecond), at(time.Second)})).To(Equal(3 * time.Millisecond))
}

func TestPollsAreToldApartFromDueMoments(t *testing.T) {
	spec := canarySpec(weightStep(10), pauseStep(time.Minute), weightStep(50))
	withHook := withHooks(spec, hook("smoke", v1alpha1.HookPreRollout))
	runCanaryCases(t, []canaryCase{{
		name: "a step's weight not read back yet is only polled for: the route's watch should report it",
		spec: spec, status: releasing(0, -1), obs: observed(time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
			g.Expect(d.Poll).To(BeTrue())
		},
	}, {
		name: "a pause's end is due, not a poll",
		spec: spec, status: releasing(1, 0), obs: observed(58*time.Second, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.RequeueAfter).To(Equal(2 * time.Second))
			g.Expect(d.Poll).To(BeFalse())
		},
	}, {
		name: "a progress deadline sooner than the poll is due, not a poll",
		spec: spec, status: releasing(0, -1), obs: func() CanaryObserved {
			o := observed(598*time.Second, 0)
			o.Target.ReadyReplicas = 2
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.RequeueAfter).To(Equal(2 * time.Second))
			g.Expect(d.Poll).To(BeFalse())
		},
	}, {
		name: "a running hook is looked at again as due work: a webhook's answer comes by no watch",
		spec: withHook, status: func() v1alpha1.CanaryStatus {
			st := releasing(0, -1)
			st.StepStartedAt = nil
			st.Hooks = []v1alpha1.HookStatus{hookRun("smoke", v1alpha1.HookPreRollout, "v2", v1alpha1.HookRunning)}
			return st
		}(), obs: observed(time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
			g.Expect(d.Poll).To(BeFalse())
		},
	}})
	g := NewWithT(t)
	after, poll := wake(at(0), []time.Time{at(5 * time.Second)}, true, at(5*time.Second))
	g.Expect(after).To(Equal(5*time.Second), "a due moment at the poll's instant")
	g.Expect(poll).To(BeFalse(), "is due, not a poll")
	after, poll = wake(at(0), nil, false, at(5*time.Second))
	g.Expect(after).To(BeZero(), "nothing due and no poll: wait for a watch event")
	g.Expect(poll).To(BeFalse())
}
