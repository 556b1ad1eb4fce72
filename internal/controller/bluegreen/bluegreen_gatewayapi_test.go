package bluegreen_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
)

var _ = Describe("A BlueGreen through a Gateway API HTTPRoute", func() {
	It("holds the flip while the implementation refuses the route, quoting it, and promotes once it accepts", func() {
		ns := newNamespace()
		impl := controllertest.RunGatewayImpl(ctx, k8s, ns, target)
		defer impl.Stop()
		impl.Set(metav1.ConditionTrue, "Accepted", "")
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, throughGateway(""))
		waitStable(ns)
		Eventually(func() v1alpha1.Color { return liveRoute(ns) }).Should(Equal(blue))
		Expect(getBlueGreen(ns).Status.Route.Kind).To(Equal("HTTPRoute"))

		By("refusing the route's next generation, as a Gateway whose listeners do not allow it")
		impl.Set(metav1.ConditionFalse, "NotAllowedByListeners", "no listener of Gateway public allows routes from this namespace")
		v2 := setImage(ns, "orders:v2")
		Eventually(func() string { return hrColor(ns, target) }, 30*time.Second).Should(Equal(string(green)),
			"the weights are written")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			r := conditionOf(bg, v1alpha1.ConditionReconciling)
			g.Expect(r.Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
			g.Expect(r.Message).To(And(ContainSubstring("NotAllowedByListeners"),
				ContainSubstring("no listener of Gateway public allows routes from this namespace")))
			g.Expect(bg.Status.Route.LiveColor).To(BeEmpty())
			g.Expect(bg.Status.Route.Message).To(ContainSubstring("rejected"))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.SwitchedAt).To(BeNil(), "no flip counts before the implementation took it")
			g.Expect(selected(ns, target)).To(Equal(blue), "the active Service follows only a route read back")
		}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

		By("accepting it")
		impl.Set(metav1.ConditionTrue, "Accepted", "")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.ActiveRevision).To(Equal(v2))
			g.Expect(bg.Status.Route.LiveColor).To(Equal(green))
			g.Expect(conditionOf(bg, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(selected(ns, target)).To(Equal(green))
		}, 60*time.Second).Should(Succeed())
	})

	It("changes only the weights of a user's HTTPRoute, and on deletion keeps it, pointed at the active Service", func() {
		ns := newNamespace()
		impl := controllertest.RunGatewayImpl(ctx, k8s, ns, "shop-routes")
		defer impl.Stop()
		impl.Set(metav1.ConditionTrue, "Accepted", "")
		port := gatewayv1.PortNumber(8080)
		backend := func(name string, weight int32) gatewayv1.HTTPBackendRef {
			return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name), Port: &port},
				Weight:                 ptr.To(weight)}}
		}
		theirs := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "shop-routes", Namespace: ns,
			Labels: map[string]string{"team": "shop"}}}
		theirs.Spec.ParentRefs = []gatewayv1.ParentReference{{Name: "public"}}
		theirs.Spec.Hostnames = []gatewayv1.Hostname{"orders.example.com"}
		theirs.Spec.Rules = []gatewayv1.HTTPRouteRule{
			{BackendRefs: []gatewayv1.HTTPBackendRef{
				backend(workload.ColorName(target, blue), 100), backend(workload.ColorName(target, green), 0)}},
			{Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Value: ptr.To("/admin")}}},
				BackendRefs: []gatewayv1.HTTPBackendRef{backend("admin", 1)}},
		}
		Expect(k8s.Create(ctx, theirs)).To(Succeed())
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, throughGateway("shop-routes"))
		waitStable(ns)
		v2 := setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			g.Expect(getBlueGreen(ns).Status.ActiveRevision).To(Equal(v2))
			g.Expect(hrColor(ns, "shop-routes")).To(Equal(string(green)))
		}, 60*time.Second).Should(Succeed())
		got := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), got)).To(Succeed())
		Expect(got.Labels).To(Equal(theirs.Labels))
		Expect(got.OwnerReferences).To(BeEmpty())
		Expect(got.Spec.Hostnames).To(Equal(theirs.Spec.Hostnames))
		Expect(got.Spec.Rules[1].BackendRefs).To(HaveLen(1))
		Expect(string(got.Spec.Rules[1].BackendRefs[0].Name)).To(Equal("admin"), "other rules untouched")

		Expect(k8s.Delete(ctx, getBlueGreen(ns))).To(Succeed())
		Eventually(func() bool { return bgGone(ns) }).Should(BeTrue())
		Expect(hrColor(ns, "shop-routes")).To(Equal("apex"), "a user's route is kept, its traffic on the active Service")
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), got)).To(Succeed())
		Expect(got.Labels).To(Equal(theirs.Labels))
		Expect(string(got.Spec.Rules[1].BackendRefs[0].Name)).To(Equal("admin"))
	})

	It("stalls on a named HTTPRoute that does not exist, and touches nothing", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, throughGateway("missing"))
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			s := conditionOf(bg, v1alpha1.ConditionStalled)
			g.Expect(s.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(s.Reason).To(Equal(v1alpha1.ReasonRouteUnmanageable))
			g.Expect(s.Message).To(ContainSubstring("HTTPRoute " + ns + "/missing not found"))
		}).Should(Succeed())
		Expect(hrColor(ns, "missing")).To(Equal("-"), "a named route is never created")
	})
})
