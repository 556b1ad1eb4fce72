package rollout

import (
	"testing"

	. "github.com/onsi/gomega"
)

// TestCanaryPrimarySize: the Canary machine decides the primary's size and
// carries it in EnsurePrimary; the shell only applies it.
func TestCanaryPrimarySize(t *testing.T) {
	spec := canarySpec(weightStep(10), weightStep(50))
	fresh := func(target, primary WorkloadState) CanaryObserved {
		obs := observed(0, 0)
		obs.Target, obs.Primary, obs.Route = target, primary, RouteState{}
		return obs
	}
	edited := func(primary WorkloadState) CanaryObserved {
		obs := observed(0, 0)
		obs.Target, obs.Primary = deployment("v1", 0), primary
		return obs
	}
	autoscaled := func(w WorkloadState) WorkloadState {
		w.Autoscaled = true
		return w
	}
	runCanaryCases(t, []canaryCase{{
		name: "create the primary with the target's size, since it takes over what the target's pods served",
		spec: spec, obs: fresh(deployment("v1", 4), WorkloadState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 4}}))
		},
	}, {
		name: "create the primary with one pod, never none, from a target scaled to zero",
		spec: spec, obs: fresh(WorkloadState{Exists: true, Revision: "v1"}, WorkloadState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 1}}))
		},
	}, {
		name: "keep the size of a primary that exists when its template is put back, whatever the target's",
		spec: spec, status: stable(), obs: edited(deployment("v0", 5)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(ContainElement(EnsurePrimary{Revision: "v1", Replicas: 5}))
		},
	}, {
		name: "leave the count of an autoscaled primary to its autoscaler, saying so in the action",
		spec: spec, status: stable(), obs: edited(autoscaled(deployment("v0", 7))),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(ContainElement(EnsurePrimary{Revision: "v1", Replicas: 7, Autoscaled: true}))
		},
	}, {
		name: "create an autoscaled primary with the target's size, for its autoscaler to take over",
		spec: spec, obs: fresh(autoscaled(deployment("v1", 2)), autoscaled(WorkloadState{})),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 2, Autoscaled: true}}))
		},
	}})
}
