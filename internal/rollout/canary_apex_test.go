package rollout

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestCanaryApex(t *testing.T) {
	for _, tc := range []struct {
		name    string
		primary WorkloadState
		want    ApexSelection
	}{
		{name: "a primary ready at full size takes the apex over", primary: deployment("v1", 3),
			want: ApexSelection{Pods: ApexOnPrimary}},
		{name: "until the primary exists the user's pods keep the apex, an adopted Service its selector",
			primary: WorkloadState{}, want: ApexSelection{Pods: ApexOnTarget, Keep: true}},
		{name: "a primary with one pod of three ready does not take the apex yet",
			primary: WorkloadState{Exists: true, Revision: "v1", DesiredReplicas: 3, ReadyReplicas: 1},
			want:    ApexSelection{Pods: ApexOnTarget, Keep: true}},
		{name: "a primary scaled to zero never takes the apex",
			primary: WorkloadState{Exists: true, Revision: "v1"}, want: ApexSelection{Pods: ApexOnTarget, Keep: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(CanaryApex(stable(), tc.primary)).To(Equal(tc.want))
		})
	}
	t.Run("a primary being re-created with all traffic on the canary hands the apex to the canary", func(t *testing.T) {
		NewWithT(t).Expect(CanaryApex(allOnCanary(), WorkloadState{})).To(Equal(ApexSelection{Pods: ApexOnCanaryPods}))
	})
	t.Run("a stale primary about to be replaced hands the apex to the canary though it is ready", func(t *testing.T) {
		NewWithT(t).Expect(CanaryApex(allOnCanary(), stalePrimary("v1", 3))).To(Equal(ApexSelection{Pods: ApexOnCanaryPods}))
	})
}
