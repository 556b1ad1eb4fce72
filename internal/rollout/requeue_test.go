package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
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
