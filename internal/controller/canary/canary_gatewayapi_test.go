package canary_test

import (
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// gatewayImpl plays a Gateway API implementation on the HTTPRoute named
// target: while verdict holds a status, it writes it for every parent at the
// route's current generation, as a Gateway controller does after it
// reprogrammed its data plane.
type gatewayImpl struct {
	verdict atomic.Pointer[metav1.Condition]
	stop    chan struct{}
}

// runGatewayImpl starts the implementation; it writes nothing until set.
func runGatewayImpl(ns string) *gatewayImpl {
	g := &gatewayImpl{stop: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-tick.C:
				if v := g.verdict.Load(); v != nil {
					g.report(ns, *v)
				}
			}
		}
	}()
	return g
}

// set makes the implementation report status and reason from now on.
func (g *gatewayImpl) set(status metav1.ConditionStatus, reason, message string) {
	g.verdict.Store(&metav1.Condition{Status: status, Reason: reason, Message: message})
}

// report writes the verdict when the route's status is not already it.
func (g *gatewayImpl) report(ns string, v metav1.Condition) {
	hr := &gatewayv1.HTTPRoute{}
	if k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, hr) != nil {
		return
	}
	parents := make([]gatewayv1.RouteParentStatus, 0, len(hr.Spec.ParentRefs))
	for _, ref := range hr.Spec.ParentRefs {
		entry := gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: "example.com/gateway"}
		for _, t := range []string{"Accepted", "ResolvedRefs"} {
			meta.SetStatusCondition(&entry.Conditions, metav1.Condition{Type: t, Status: v.Status,
				Reason: v.Reason, Message: v.Message, ObservedGeneration: hr.Generation})
		}
		parents = append(parents, entry)
	}
	if len(hr.Status.Parents) == len(parents) && len(parents) > 0 {
		c := meta.FindStatusCondition(hr.Status.Parents[0].Conditions, "Accepted")
		if c != nil && c.ObservedGeneration == hr.Generation && c.Status == v.Status && c.Reason == v.Reason {
			return
		}
	}
	hr.Status.Parents = parents
	_ = k8s.Status().Update(ctx, hr)
}

// httpRouteWeight is the canary's weight in the generated HTTPRoute, -1
// when it does not exist.
func httpRouteWeight(ns string) int32 {
	hr := &gatewayv1.HTTPRoute{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, hr); err != nil {
		return -1
	}
	for _, r := range hr.Spec.Rules {
		for _, ref := range r.BackendRefs {
			if string(ref.Name) == workload.CanaryName(target) && ref.Weight != nil {
				return *ref.Weight
			}
		}
	}
	return -1
}

var _ = Describe("A Canary on a Gateway API HTTPRoute", func() {
	It("holds each weight until the implementation accepted it, says what a rejecting implementation said, and promotes once it accepts", func() {
		ns := newNamespace()
		impl := runGatewayImpl(ns)
		defer close(impl.stop)
		impl.set(metav1.ConditionTrue, "Accepted", "")
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{
				HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public"}}}}}
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: &v1alpha1.Pause{}}}
		})
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StableRevision).NotTo(BeEmpty())
			g.Expect(conditionOf(c, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue), "%+v", c.Status.Conditions)
		}).Should(Succeed())

		By("refusing the next generation of the route, as a Gateway whose listeners do not allow it")
		impl.set(metav1.ConditionFalse, "NotAllowedByListeners", "no listener of Gateway public allows routes from this namespace")
		rev := setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return httpRouteWeight(ns) }).Should(Equal(int32(25)))
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			r := conditionOf(c, v1alpha1.ConditionReconciling)
			g.Expect(r.Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
			g.Expect(r.Message).To(ContainSubstring("NotAllowedByListeners"))
			g.Expect(r.Message).To(ContainSubstring("no listener of Gateway public allows routes from this namespace"))
		}).Should(Succeed())
		Consistently(func() *metav1.Time { return getCanary(ns).Status.StepStartedAt }, 2*time.Second).Should(BeNil(),
			"no step's clock starts on a weight the data plane refused")

		By("accepting it")
		impl.set(metav1.ConditionTrue, "Accepted", "")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StepStartedAt).NotTo(BeNil())
			g.Expect(c.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(c.Status.CanaryWeight).To(Equal(int32(25)))
		}).Should(Succeed())

		command(ns, v1alpha1.CommandPromote)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StableRevision).To(Equal(rev))
			g.Expect(conditionOf(c, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(httpRouteWeight(ns)).To(Equal(int32(0)))
		}).Should(Succeed())
	})

	It("puts a weight edited by hand back without waiting for a poll", func() {
		ns := newNamespace()
		impl := runGatewayImpl(ns)
		defer close(impl.stop)
		impl.set(metav1.ConditionTrue, "Accepted", "")
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{
				HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public"}}}}}
		})
		Eventually(func() int32 { return httpRouteWeight(ns) }).Should(Equal(int32(0)))
		waitReady := func(g Gomega) {
			g.Expect(conditionOf(getCanary(ns), v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		}
		Eventually(waitReady).Should(Succeed())
		hr := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, hr)).To(Succeed())
		*hr.Spec.Rules[0].BackendRefs[0].Weight, *hr.Spec.Rules[0].BackendRefs[1].Weight = 50, 50
		Expect(k8s.Update(ctx, hr)).To(Succeed())
		Eventually(func() int32 { return httpRouteWeight(ns) }, 5*time.Second).Should(Equal(int32(0)))
	})
})
