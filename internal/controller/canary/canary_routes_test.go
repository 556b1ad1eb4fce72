package canary_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// userVirtualService is a VirtualService a platform team owns: a header
// route to a debug Service, then the route Sluice may weigh.
func userVirtualService(ns string) *istionetworking.VirtualService {
	return &istionetworking.VirtualService{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-routes", Namespace: ns, Labels: map[string]string{"team": "shop"}},
		Spec: istioapi.VirtualService{
			Hosts:    []string{"podinfo.example.com"},
			Gateways: []string{"istio-system/public"},
			Http: []*istioapi.HTTPRoute{
				{
					Name:  "debug",
					Match: []*istioapi.HTTPMatchRequest{{Headers: map[string]*istioapi.StringMatch{"x-debug": {MatchType: &istioapi.StringMatch_Exact{Exact: "1"}}}}},
					Route: []*istioapi.HTTPRouteDestination{{Destination: &istioapi.Destination{Host: "podinfo-debug"}}},
				},
				{
					Name: "main",
					Route: []*istioapi.HTTPRouteDestination{
						{Destination: &istioapi.Destination{Host: "podinfo-primary"}, Weight: 100},
						{Destination: &istioapi.Destination{Host: "podinfo-canary"}, Weight: 0},
					},
					Timeout: nil,
				},
			},
		},
	}
}

var _ = Describe("Routes and references", func() {
	It("changes only the weights of the route it manages in a user-owned VirtualService", func() {
		ns := newNamespace()
		vs := userVirtualService(ns)
		Expect(k8s.Create(ctx, vs)).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting.Istio.VirtualService.Name = "shop-routes"
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: &v1alpha1.Pause{}}}
		})
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.StableRevision).NotTo(BeEmpty())
		}).Should(Succeed())
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, "shop-routes") }).Should(Equal(int32(25)))

		got := &istionetworking.VirtualService{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "shop-routes"}, got)).To(Succeed())
		Expect(got.Labels).To(Equal(vs.Labels))
		Expect(got.OwnerReferences).To(BeEmpty(), "Sluice does not take ownership of a user's VirtualService")
		Expect(got.Spec.Hosts).To(Equal(vs.Spec.Hosts))
		Expect(got.Spec.Gateways).To(Equal(vs.Spec.Gateways))
		Expect(got.Spec.Http[0].String()).To(Equal(vs.Spec.Http[0].String()), "the debug route is untouched")
		Expect(got.Spec.Http[1].Route[0].Weight).To(Equal(int32(75)))
		Expect(got.Spec.Http[1].Route[1].Weight).To(Equal(int32(25)))

		By("generating no VirtualService of its own")
		err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, &istionetworking.VirtualService{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
	})

	It("says it waits for the missing target and creates nothing", func() {
		ns := newNamespace()
		newCanary(ns)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(conditionOf(c, v1alpha1.ConditionReconciling)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", v1alpha1.ReasonWaitingForTarget)))
			g.Expect(conditionOf(c, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(conditionOf(c, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		}).Should(Succeed())
		err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: workload.PrimaryName(target)}, &appsv1.Deployment{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())

		By("starting once the Deployment appears")
		newTarget(ns, "podinfo:v1", 1)
		waitStable(ns)
	})

	It("says a named VirtualService is missing and changes nothing", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) { c.Spec.TrafficRouting.Istio.VirtualService.Name = "nowhere" })
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(conditionOf(c, v1alpha1.ConditionStalled)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", v1alpha1.ReasonRouteNotFound)))
			g.Expect(conditionOf(c, v1alpha1.ConditionStalled).Message).To(ContainSubstring("nowhere"))
		}).Should(Succeed())
		Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(2)), "the user's Deployment keeps serving")
		err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nowhere"}, &istionetworking.VirtualService{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
	})
})
