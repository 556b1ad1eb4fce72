package istio_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/istio"
)

// getVS reads a VirtualService of the test namespace.
func getVS(name string) *networkingv1.VirtualService {
	vs := &networkingv1.VirtualService{}
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, vs)).To(Succeed())
	return vs
}

// destinations lists a route's destinations as host=weight.
func destinations(vs *networkingv1.VirtualService, route int) map[string]int32 {
	out := map[string]int32{}
	for _, d := range vs.Spec.GetHttp()[route].GetRoute() {
		out[d.GetDestination().GetHost()] = d.GetWeight()
	}
	return out
}

var _ = Describe("A generated VirtualService", func() {
	var (
		router *istio.Router
		c      *v1alpha1.Canary
		name   string
	)
	BeforeEach(func() {
		router = istio.New(k8sClient)
		c = newCanary(v1alpha1.IstioVirtualService{Gateways: []string{"istio-system/public"}})
		name = c.Spec.TargetRef.Name
	})

	It("is created with the apex host, the gateways, all traffic to the primary and an owner reference", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())

		vs := getVS(name)
		Expect(vs.Spec.GetHosts()).To(Equal([]string{name}))
		Expect(vs.Spec.GetGateways()).To(Equal([]string{"istio-system/public"}))
		Expect(vs.Spec.GetHttp()).To(HaveLen(1))
		Expect(vs.Spec.GetHttp()[0].GetName()).To(Equal("sluice"))
		Expect(destinations(vs, 0)).To(Equal(map[string]int32{name + "-primary": 100, name + "-canary": 0}))
		for _, d := range vs.Spec.GetHttp()[0].GetRoute() {
			Expect(d.GetDestination().GetPort().GetNumber()).To(Equal(uint32(9898)))
		}
		Expect(vs.OwnerReferences).To(HaveLen(1))
		Expect(vs.OwnerReferences[0].UID).To(Equal(c.UID))
		Expect(vs.OwnerReferences[0].Kind).To(Equal("Canary"))
		Expect(*vs.OwnerReferences[0].Controller).To(BeTrue())
	})

	It("defaults hosts only when the spec names none", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Hosts: []string{"podinfo.example.com"}})
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(getVS(c.Spec.TargetRef.Name).Spec.GetHosts()).To(Equal([]string{"podinfo.example.com"}))
	})

	It("carries each weight it is set to, read back as the router reports it, with the rest to the primary", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		for _, w := range []int32{1, 10, 50, 100, 0} {
			changed, err := router.SetSplit(ctx, traffic.CanarySplit(c), w)
			Expect(err).NotTo(HaveOccurred())
			Expect(changed).To(BeTrue(), "weight %d", w)
			Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(w))
			Expect(destinations(getVS(name), 0)).To(Equal(map[string]int32{name + "-primary": 100 - w, name + "-canary": w}))
		}
	})

	It("is not written when the weight is already in place, nor when ensured again", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		rv := getVS(name).ResourceVersion

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeFalse())
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(getVS(name).ResourceVersion).To(Equal(rv))
	})

	It("is created by the first SetWeight when nothing ensured it before", func() {
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 1)).To(BeTrue())
		Expect(destinations(getVS(name), 0)).To(Equal(map[string]int32{name + "-primary": 99, name + "-canary": 1}))
	})

	It("keeps its weight when ensured after a spec change", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 50)).To(BeTrue())

		c.Spec.TrafficRouting.Istio.VirtualService.Hosts = []string{"podinfo.example.com"}
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		vs := getVS(name)
		Expect(vs.Spec.GetHosts()).To(Equal([]string{"podinfo.example.com"}))
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(50)))
	})

	It("refuses to take over a VirtualService of that name it did not generate, and leaves it alone", func() {
		user := &networkingv1.VirtualService{}
		user.Name, user.Namespace = name, namespace
		user.Spec.Hosts = []string{"mine"}
		Expect(k8sClient.Create(ctx, user)).To(Succeed())

		err := router.EnsureSplit(ctx, traffic.CanarySplit(c))
		var unmanageable *traffic.UnmanageableRouteError
		Expect(errors.As(err, &unmanageable)).To(BeTrue(), "%v", err)
		Expect(getVS(name).ResourceVersion).To(Equal(user.ResourceVersion))
	})

	It("is left alone on finalize when it belongs to another Canary of the same name (another UID)", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		other := c.DeepCopy()
		other.UID = "a-canary-deleted-and-created-again"
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(other))).To(BeFalse())
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(other))).To(Succeed())
		vs := getVS(name)
		Expect(vs.Spec.Http[0].Route).To(HaveLen(2), "not handed back")
		Expect(vs.OwnerReferences).To(HaveLen(1), "not released")
	})

	It("refuses weights outside 0-100", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		_, err := router.SetSplit(ctx, traffic.CanarySplit(c), 101)
		Expect(err).To(HaveOccurred())
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(0)))
	})
})
