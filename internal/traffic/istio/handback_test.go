package istio_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/istio"
)

var _ = Describe("The end of a generated VirtualService when its Canary goes", func() {
	var router *istio.Router
	BeforeEach(func() { router = istio.New(k8sClient) })

	It("bound to an ingress gateway, is kept with all its traffic to the apex Service and released to the user", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Gateways: []string{"istio-system/public", "mesh"}})
		name, s := c.Spec.TargetRef.Name, traffic.CanarySplit(c)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
		uid := getVS(name).UID

		err := router.FinalizeSplit(ctx, s)
		Expect(errors.Is(err, traffic.ErrNotHandedBack)).To(BeTrue(), "%v", err)
		Expect(getVS(name).OwnerReferences).To(HaveLen(1), "nothing released while it routes to the primary and canary")

		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		vs := getVS(name)
		Expect(vs.UID).To(Equal(uid), "the same object: the gateway never loses its route")
		Expect(vs.OwnerReferences).To(BeEmpty(), "the garbage collector keeps it when the Canary goes")
		Expect(vs.Labels).NotTo(HaveKey(istio.LabelManagedBy))
		Expect(vs.Annotations).To(HaveKeyWithValue(traffic.AnnotationHandedBack, "Canary/"+c.Name))
		Expect(vs.Spec.GetGateways()).To(Equal([]string{"istio-system/public", "mesh"}))
		Expect(destinations(vs, 0)).To(Equal(map[string]int32{name: 100}))

		By("replaying every step, as a restarted operator does: nothing more is written")
		Expect(istio.New(k8sClient).HandBackSplit(ctx, s)).To(BeFalse())
		Expect(istio.New(k8sClient).FinalizeSplit(ctx, s)).To(Succeed())
		Expect(getVS(name).ResourceVersion).To(Equal(vs.ResourceVersion))
	})

	It("bound to the mesh alone, is deleted once handed back: the apex Service carries the traffic", func() {
		for _, gateways := range [][]string{nil, {"mesh"}} {
			c := newCanary(v1alpha1.IstioVirtualService{Gateways: gateways})
			s := traffic.CanarySplit(c)
			Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
			Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
			Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
			err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: c.Spec.TargetRef.Name}, &networkingv1.VirtualService{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "gateways %v: %v", gateways, err)
			Expect(router.FinalizeSplit(ctx, s)).To(Succeed(), "finalizing again finds nothing to do")
		}
	})

	It("bound to the mesh for another host, is kept too: no Service carries that host once it is gone", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Hosts: []string{"podinfo.shop.example.com"}})
		s := traffic.CanarySplit(c)
		Expect(router.EnsureSplit(ctx, s)).To(Succeed())
		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		vs := getVS(c.Spec.TargetRef.Name)
		Expect(vs.OwnerReferences).To(BeEmpty())
		Expect(vs.Annotations).To(HaveKey(traffic.AnnotationHandedBack))
	})

	It("once released, is the user's until a Canary created again for the target claims it back", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Gateways: []string{"istio-system/public"}})
		name := c.Spec.TargetRef.Name
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		released := getVS(name)

		again := c.DeepCopy()
		again.UID = "the-canary-created-again"
		s := traffic.CanarySplit(again)
		_, err := router.SplitWeight(ctx, s)
		var missing *traffic.RouteNotFoundError
		Expect(errors.As(err, &missing)).To(BeTrue(), "a released route counts as not created yet: %v", err)
		Expect(router.HandBackSplit(ctx, s)).To(BeFalse())
		Expect(getVS(name).ResourceVersion).To(Equal(released.ResourceVersion))

		Expect(router.EnsureSplit(ctx, s)).To(Succeed())
		vs := getVS(name)
		Expect(vs.UID).To(Equal(released.UID), "claimed in place, never deleted")
		Expect(metav1.GetControllerOf(vs).UID).To(Equal(again.UID))
		Expect(vs.Annotations).NotTo(HaveKey(traffic.AnnotationHandedBack))
		Expect(vs.Labels).To(HaveKeyWithValue(istio.LabelManagedBy, "sluice"))
		Expect(destinations(vs, 0)).To(Equal(map[string]int32{name + "-primary": 100, name + "-canary": 0}))
		Expect(router.SplitWeight(ctx, s)).To(Equal(int32(0)))
		Expect(router.EnsureSplit(ctx, s)).To(Succeed())
		Expect(getVS(name).ResourceVersion).To(Equal(vs.ResourceVersion), "ensured again, nothing is written")
	})
})
