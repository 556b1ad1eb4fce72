package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// stalePrimary is a primary at rev with n ready pods whose selector Sluice
// can no longer apply (made before the primary's labels were renamed).
func stalePrimary(rev string, n int32) WorkloadState {
	p := deployment(rev, n)
	p.SelectorStale = true
	return p
}

// allOnCanary is a promotion of v2 whose canary took all the traffic at
// t0+2m.
func allOnCanary() v1alpha1.CanaryStatus {
	st := promoting()
	st.CanaryFullAt = stamp(2 * time.Minute)
	return st
}

func TestCanaryReplacesAStalePrimaryOnlyWithoutTraffic(t *testing.T) {
	spec := canarySpec(weightStep(10), weightStep(50))
	withPrimary := func(o CanaryObserved, p WorkloadState) CanaryObserved { o.Primary = p; return o }
	atRest := func(p WorkloadState) CanaryObserved {
		o := withPrimary(observed(time.Minute, 0), p)
		o.Target = WorkloadState{Exists: true, Revision: "v1"}
		return o
	}
	runCanaryCases(t, []canaryCase{{
		name:   "a stale primary at rest is left as it is",
		spec:   spec,
		status: stable(),
		obs:    atRest(stalePrimary("v1", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name:   "a stale primary that drifted is put back in place, not replaced, while it serves",
		spec:   spec,
		status: stable(),
		obs:    atRest(stalePrimary("v0", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 3}}))
		},
	}, {
		name:   "a stale primary is not replaced while a promotion still sends it traffic",
		spec:   spec,
		status: allOnCanary(),
		obs:    withPrimary(observed(3*time.Minute, 50), stalePrimary("v1", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}))
		},
	}, {
		name:   "a stale primary is replaced once the router reports all traffic on the canary",
		spec:   spec,
		status: allOnCanary(),
		obs:    withPrimary(observed(3*time.Minute, 100), stalePrimary("v1", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{ReplacePrimary{Revision: "v1"}}))
			g.Expect(d.Status.CanaryWeight).To(Equal(int32(100)))
		},
	}, {
		name:   "a replaced primary is created anew at the canary's revision, traffic staying on the canary",
		spec:   spec,
		status: allOnCanary(),
		obs:    withPrimary(observed(3*time.Minute, 100), WorkloadState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v2", Replicas: 3}}))
		},
	}, {
		name: "a rollback while the primary is re-created keeps traffic on the canary and restores the stable revision",
		spec: spec,
		status: func() v1alpha1.CanaryStatus {
			st := allOnCanary()
			st.PromotingAt, st.AbortedAt, st.AbortReason = nil, stamp(3*time.Minute), v1alpha1.ReasonAborted
			return st
		}(),
		obs: withPrimary(observed(3*time.Minute, 100), WorkloadState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 3}}))
		},
	}, {
		name: "a stale primary is not replaced during a rollback: it is restored in place",
		spec: spec,
		status: func() v1alpha1.CanaryStatus {
			st := allOnCanary()
			st.PromotingAt, st.AbortedAt, st.AbortReason = nil, stamp(3*time.Minute), v1alpha1.ReasonAborted
			return st
		}(),
		obs: withPrimary(observed(3*time.Minute, 100), stalePrimary("v2", 3)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 3}}))
		},
	}})
}

func TestApexOnCanary(t *testing.T) {
	released := stable()
	tests := []struct {
		name    string
		status  v1alpha1.CanaryStatus
		primary WorkloadState
		want    bool
	}{
		{"at rest the apex selects the primary", released, deployment("v1", 3), false},
		{"at rest a stale primary still serves the apex", released, stalePrimary("v1", 3), false},
		{"a promotion updating a primary in place keeps the apex on it", allOnCanary(), deployment("v1", 3), false},
		{"a promotion about to replace a stale primary moves the apex to the canary", allOnCanary(), stalePrimary("v1", 3), true},
		{"a promotion re-creating the primary keeps the apex on the canary", allOnCanary(), WorkloadState{}, true},
		{"a stale primary before the canary takes all traffic keeps the apex", promoting(), stalePrimary("v1", 3), false},
		{"once draining, the apex is the primary's again", func() v1alpha1.CanaryStatus {
			st := allOnCanary()
			st.DrainStartedAt = stamp(4 * time.Minute)
			return st
		}(), deployment("v2", 3), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(ApexOnCanary(tt.status, tt.primary)).To(Equal(tt.want))
		})
	}
}
