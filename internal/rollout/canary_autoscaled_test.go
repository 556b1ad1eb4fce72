package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// autoscaled marks a Deployment's replicas as an autoscaler's.
func autoscaled(w WorkloadState) WorkloadState {
	w.Autoscaled = true
	return w
}

func TestCanaryAutoscaled(t *testing.T) {
	spec := drainSpec()
	primary := autoscaled(deployment("v1", 5))
	runCanaryCases(t, []canaryCase{{
		name: "scale an autoscaled canary from zero to the primary's current size",
		spec: spec, status: releasing(0, -1), obs: seen(time.Minute, 0, primary, autoscaled(WorkloadState{Exists: true, Revision: "v2"})),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{ScaleCanary{Replicas: 5}}))
		},
	}, {
		name:   "leave an autoscaled canary's size to its autoscaler during the steps",
		spec:   canarySpec(weightStep(10), pauseStep(time.Hour), weightStep(50)),
		status: releasing(1, time.Minute), obs: seen(2*time.Minute, 10, primary, autoscaled(deployment("v2", 2))),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "scale an autoscaled canary up to the primary's size before it takes all traffic in a promotion",
		spec: spec, status: promoting(), obs: seen(2*time.Minute, 50, primary, autoscaled(deployment("v2", 2))),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{ScaleCanary{Replicas: 5}}))
		},
	}, {
		name: "not scale down an autoscaled canary that grew past the primary during a promotion",
		spec: spec, status: promoting(), obs: seen(2*time.Minute, 50, primary, autoscaled(deployment("v2", 7))),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}))
		},
	}, {
		name: "scale an autoscaled canary to zero only once drained",
		spec: spec, status: stable(), obs: seen(2*time.Minute, 0, primary, autoscaled(deployment("v1", 3))),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.DrainStartedAt).NotTo(BeNil())
		},
	}})
}
