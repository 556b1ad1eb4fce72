package canary_test

import (
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// gatewayImpl plays a Gateway API implementation on one HTTPRoute: while
// verdict holds a status, it writes it for every parent at the route's
// current generation, as a Gateway controller does after it reprogrammed
// its data plane.
type gatewayImpl struct {
	route   string
	verdict atomic.Pointer[metav1.Condition]
	stop    chan struct{}
}

// runGatewayImpl starts the implementation of the HTTPRoute named route; it
// writes nothing until set.
func runGatewayImpl(ns, route string) *gatewayImpl {
	g := &gatewayImpl{route: route, stop: make(chan struct{})}
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
	if k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: g.route}, hr) != nil {
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
		impl := runGatewayImpl(ns, target)
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
		impl := runGatewayImpl(ns, target)
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

	It("on delete, hands a user's HTTPRoute back to the apex Service and keeps it, and deletes the route it generated", func() {
		ns := newNamespace()
		impl := runGatewayImpl(ns, "shop-routes")
		defer close(impl.stop)
		impl.set(metav1.ConditionTrue, "Accepted", "")
		port := gatewayv1.PortNumber(9898)
		theirs := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "shop-routes", Namespace: ns, Labels: map[string]string{"team": "shop"}}}
		theirs.Spec.ParentRefs = []gatewayv1.ParentReference{{Name: "public"}}
		theirs.Spec.Rules = []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{
			{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(workload.PrimaryName(target)), Port: &port}, Weight: ptr.To[int32](100)}},
			{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(workload.CanaryName(target)), Port: &port}, Weight: ptr.To[int32](0)}},
		}}}
		Expect(k8s.Create(ctx, theirs)).To(Succeed())
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{
				HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{Name: "shop-routes"}}}
		})
		Eventually(func(g Gomega) {
			g.Expect(conditionOf(getCanary(ns), v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		deleteCanary(ns)
		Eventually(func() bool { return canaryGone(ns) }).Should(BeTrue())
		got := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "shop-routes"}, got)).To(Succeed(), "a user's route is never deleted")
		Expect(got.Labels).To(Equal(theirs.Labels))
		Expect(got.OwnerReferences).To(BeEmpty())
		Expect(got.Spec.Rules[0].BackendRefs).To(HaveLen(1))
		Expect(string(got.Spec.Rules[0].BackendRefs[0].Name)).To(Equal(target), "all its traffic goes to the apex Service")

		By("a generated route, in another namespace")
		ns2 := newNamespace()
		impl2 := runGatewayImpl(ns2, target)
		defer close(impl2.stop)
		impl2.set(metav1.ConditionTrue, "Accepted", "")
		newTarget(ns2, "podinfo:v1", 1)
		newCanary(ns2, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{
				HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public"}}}}}
		})
		Eventually(func() int32 { return httpRouteWeight(ns2) }).Should(Equal(int32(0)))
		deleteCanary(ns2)
		Eventually(func() bool { return canaryGone(ns2) }).Should(BeTrue())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, types.NamespacedName{Namespace: ns2, Name: target}, &gatewayv1.HTTPRoute{}))
		}).Should(BeTrue(), "the generated route is deleted")
	})
})
