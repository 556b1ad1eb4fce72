package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
)

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
		impl := controllertest.RunGatewayImpl(ctx, k8s, ns, target)
		defer impl.Stop()
		impl.Set(metav1.ConditionTrue, "Accepted", "")
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
		impl.Set(metav1.ConditionFalse, "NotAllowedByListeners", "no listener of Gateway public allows routes from this namespace")
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
		impl.Set(metav1.ConditionTrue, "Accepted", "")
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
		impl := controllertest.RunGatewayImpl(ctx, k8s, ns, target)
		defer impl.Stop()
		impl.Set(metav1.ConditionTrue, "Accepted", "")
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

	It("on delete, hands a user's HTTPRoute back to the apex Service and keeps it, and keeps and releases the Gateway's generated route", func() {
		ns := newNamespace()
		impl := controllertest.RunGatewayImpl(ctx, k8s, ns, "shop-routes")
		defer impl.Stop()
		impl.Set(metav1.ConditionTrue, "Accepted", "")
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
		impl2 := controllertest.RunGatewayImpl(ctx, k8s, ns2, target)
		defer impl2.Stop()
		impl2.Set(metav1.ConditionTrue, "Accepted", "")
		newTarget(ns2, "podinfo:v1", 1)
		newCanary(ns2, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting = v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{
				HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public"}}}}}
		})
		Eventually(func() int32 { return httpRouteWeight(ns2) }).Should(Equal(int32(0)))
		generated := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns2, Name: target}, generated)).To(Succeed())
		deleteCanary(ns2)
		Eventually(func() bool { return canaryGone(ns2) }).Should(BeTrue())
		kept := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns2, Name: target}, kept)).To(Succeed(),
			"the Gateway's only route to the app is never deleted")
		Expect(kept.UID).To(Equal(generated.UID))
		Expect(kept.OwnerReferences).To(BeEmpty(), "released: the garbage collector keeps it")
		Expect(kept.Labels).NotTo(HaveKey("app.kubernetes.io/managed-by"))
		Expect(kept.Annotations).To(HaveKeyWithValue("rollouts.sluice.dev/handed-back-from", "Canary/"+target))
		Expect(kept.Spec.Rules[0].BackendRefs).To(HaveLen(1))
		Expect(string(kept.Spec.Rules[0].BackendRefs[0].Name)).To(Equal(target), "all its traffic goes to the apex Service")
	})
})
