package gatewayapi_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/gatewayapi"
)

var _ = Describe("The end of a generated HTTPRoute when its Canary goes", func() {
	var router *gatewayapi.Router
	BeforeEach(func() { router = gatewayapi.New(k8sClient) })
	public := []v1alpha1.GatewayParentRef{{Name: "public", Namespace: "edge"}}

	It("with a Gateway parent, is kept with all its traffic to the apex Service and released to the user", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: public, Hostnames: []string{"shop.example.com"}})
		name, s := c.Spec.TargetRef.Name, traffic.CanarySplit(c)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
		uid := getRoute(name).UID

		err := router.FinalizeSplit(ctx, s)
		Expect(errors.Is(err, traffic.ErrNotHandedBack)).To(BeTrue(), "%v", err)
		Expect(getRoute(name).OwnerReferences).To(HaveLen(1), "nothing released while it routes to the primary and canary")

		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		hr := getRoute(name)
		Expect(hr.UID).To(Equal(uid), "the same object: the Gateway never loses its route to the app")
		Expect(hr.OwnerReferences).To(BeEmpty(), "the garbage collector keeps it when the Canary goes")
		Expect(hr.Labels).NotTo(HaveKey(gatewayapi.LabelManagedBy))
		Expect(hr.Annotations).To(HaveKeyWithValue(traffic.AnnotationHandedBack, "Canary/"+c.Name))
		Expect(hr.Spec.Hostnames).To(Equal([]gatewayv1.Hostname{"shop.example.com"}))
		Expect(string(hr.Spec.ParentRefs[0].Name)).To(Equal("public"))
		Expect(backends(hr, 0)).To(Equal(map[string]int32{name: 1}))
		Expect(*hr.Spec.Rules[0].BackendRefs[0].Port).To(Equal(int32(9898)))

		By("replaying every step, as a restarted operator does: nothing more is written")
		Expect(gatewayapi.New(k8sClient).HandBackSplit(ctx, s)).To(BeFalse())
		Expect(gatewayapi.New(k8sClient).FinalizeSplit(ctx, s)).To(Succeed())
		Expect(getRoute(name).ResourceVersion).To(Equal(hr.ResourceVersion))
	})

	It("with only Service parents (the mesh, GAMMA), is deleted once handed back: the apex Service carries the traffic", func() {
		port := int32(9898)
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Kind: "Service", Name: "placeholder", Port: &port}}})
		name := c.Spec.TargetRef.Name
		c.Spec.TrafficRouting.GatewayAPI.HTTPRoute.ParentRefs[0].Name = name
		Expect(k8sClient.Update(ctx, c)).To(Succeed())
		s := traffic.CanarySplit(c)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &gatewayv1.HTTPRoute{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed(), "finalizing again finds nothing to do")
	})

	It("with another Service as parent, is kept too: that Service's traffic reaches the app only through it", func() {
		port := int32(9898)
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Kind: "Service", Name: "shop-frontdoor", Port: &port}}})
		s := traffic.CanarySplit(c)
		Expect(router.EnsureSplit(ctx, s)).To(Succeed())
		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		hr := getRoute(c.Spec.TargetRef.Name)
		Expect(hr.OwnerReferences).To(BeEmpty())
		Expect(hr.Annotations).To(HaveKey(traffic.AnnotationHandedBack))
	})

	It("once released, is the user's until a Canary created again for the target claims it back", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: public})
		name := c.Spec.TargetRef.Name
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		released := getRoute(name)

		again := c.DeepCopy()
		again.UID = "the-canary-created-again"
		s := traffic.CanarySplit(again)
		_, err := router.SplitWeight(ctx, s)
		var missing *traffic.RouteNotFoundError
		Expect(errors.As(err, &missing)).To(BeTrue(), "a released route counts as not created yet: %v", err)
		Expect(router.HandBackSplit(ctx, s)).To(BeFalse())
		Expect(getRoute(name).ResourceVersion).To(Equal(released.ResourceVersion))

		Expect(router.EnsureSplit(ctx, s)).To(Succeed())
		hr := getRoute(name)
		Expect(hr.UID).To(Equal(released.UID), "claimed in place, never deleted")
		Expect(metav1.GetControllerOf(hr).UID).To(Equal(again.UID))
		Expect(hr.Annotations).NotTo(HaveKey(traffic.AnnotationHandedBack))
		Expect(hr.Labels).To(HaveKeyWithValue(gatewayapi.LabelManagedBy, "sluice"))
		Expect(backends(hr, 0)).To(Equal(map[string]int32{name + "-primary": 100, name + "-canary": 0}))
		accept(name)
		Expect(router.SplitWeight(ctx, s)).To(Equal(int32(0)))
		rv := getRoute(name).ResourceVersion
		Expect(router.EnsureSplit(ctx, s)).To(Succeed())
		Expect(getRoute(name).ResourceVersion).To(Equal(rv), "ensured again, nothing is written")
	})
})
