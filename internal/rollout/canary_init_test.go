package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestCanaryInitialization(t *testing.T) {
	spec := canarySpec(weightStep(10), weightStep(50))
	fresh := func(primary WorkloadState, route RouteState) CanaryObserved {
		obs := observed(0, 0)
		obs.Target = deployment("v1", 3)
		obs.Primary, obs.Route = primary, route
		return obs
	}
	runCanaryCases(t, []canaryCase{{
		name: "create the primary from the target when it does not exist, and set every condition",
		spec: spec, obs: fresh(WorkloadState{}, RouteState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{EnsurePrimary{Revision: "v1", Replicas: 3}}))
			g.Expect(d.Status.StableRevision).To(BeEmpty())
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseInitializing))
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonInitializing))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(d.Status, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionUnknown))
			g.Expect(d.RequeueAfter).To(Equal(PollInterval))
		},
	}, {
		name: "wait for the primary's pods before routing anything to it",
		spec: spec, obs: fresh(WorkloadState{Exists: true, Revision: "v1", DesiredReplicas: 3, ReadyReplicas: 1}, RouteState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.StableRevision).To(BeEmpty())
		},
	}, {
		name: "send all traffic to the primary once it is ready",
		spec: spec, obs: fresh(deployment("v1", 3), RouteState{}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(d.Status.StableRevision).To(BeEmpty())
		},
	}, {
		name: "become stable and ready once the router reports all traffic on the ready primary, then drain the target",
		spec: spec, obs: fresh(deployment("v1", 3), RouteState{Exists: true}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.StableRevision).To(Equal("v1"))
			g.Expect(d.Actions).To(BeEmpty(), "the target is scaled down after the drain delay")
			g.Expect(d.Status.DrainStartedAt).NotTo(BeNil())
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventInitialized}))
			g.Expect(d.Events[0].Message).To(ContainSubstring("; no traffic on the canary; it is scaled down after"),
				"the target's drain, which starts at the same moment, is said by Initialized")
			g.Expect(d.Status.History).To(HaveLen(1))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseStable))
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(d.Status, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(d.RequeueAfter).To(Equal(DefaultDrainDelay + time.Second))
		},
	}, {
		name: "wait for the target (Reconciling, not Stalled) and change nothing when the target Deployment is missing",
		spec: spec, status: stable(), obs: func() CanaryObserved { o := observed(0, 0); o.Target = WorkloadState{}; return o }(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.StableRevision).To(Equal("v1"))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForTarget))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseWaitingForTarget))
			g.Expect(d.Status.Message).To(HavePrefix("waiting for Deployment podinfo to exist"))
		},
	}, {
		name: "stall with RouteNotFound when the VirtualService the user named is missing",
		spec: func() v1alpha1.CanarySpec {
			s := spec
			s.TrafficRouting = v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{
				VirtualService: v1alpha1.IstioVirtualService{Name: "shop"}}}
			return s
		}(),
		status: releasing(1, 0), obs: func() CanaryObserved { o := observed(0, 0); o.Route = RouteState{}; return o }(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(condition(d.Status, v1alpha1.ConditionStalled).Reason).To(Equal(v1alpha1.ReasonRouteNotFound))
		},
	}, {
		name: "recreate a generated route that went missing, with all traffic on the primary",
		spec: spec, status: stable(), obs: func() CanaryObserved {
			o := observed(0, 0)
			o.Target, o.Route = deployment("v1", 0), RouteState{}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			g.Expect(condition(d.Status, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		},
	}})
}

func TestCanaryConditionsKeepTheirTransitionTime(t *testing.T) {
	g := NewWithT(t)
	spec := canarySpec(weightStep(10))
	obs := observed(0, 0)
	obs.Target = deployment("v1", 0)
	first := Next(spec, stable(), obs)
	obs.Now = at(time.Hour)
	later := Next(spec, first.Status, obs)
	g.Expect(condition(later.Status, v1alpha1.ConditionReady).LastTransitionTime).
		To(Equal(condition(first.Status, v1alpha1.ConditionReady).LastTransitionTime))
	g.Expect(later.Status).To(Equal(first.Status))
}
