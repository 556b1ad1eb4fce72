package istio_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/proto"
	istioapi "istio.io/api/networking/v1alpha3"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/istio"
)

// A user may edit the generated VirtualService between Sluice's last
// reconcile and the Canary's deletion (a Canary being deleted is not
// reconciled to its spec any more). Whether it is the way in for someone
// is read from the live object, not only from the Canary's spec.
var _ = Describe("The end of a generated VirtualService its user edited before deleting the Canary", func() {
	var router *istio.Router
	BeforeEach(func() { router = istio.New(k8sClient) })

	It("bound to an ingress gateway or given a public host by hand, is kept and released, not deleted", func() {
		for _, edit := range []func(gateways, hosts []string) ([]string, []string){
			func(g, h []string) ([]string, []string) { return append(g, "istio-system/public"), h },
			func(g, h []string) ([]string, []string) { return g, append(h, "shop.example.com") },
		} {
			c := newCanary(v1alpha1.IstioVirtualService{})
			name, s := c.Spec.TargetRef.Name, traffic.CanarySplit(c)
			Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())

			vs := getVS(name)
			vs.Spec.Gateways, vs.Spec.Hosts = edit(vs.Spec.Gateways, vs.Spec.Hosts)
			Expect(k8sClient.Update(ctx, vs, client.FieldOwner("kubectl-edit"))).To(Succeed())

			Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
			Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
			kept := getVS(name)
			Expect(kept.UID).To(Equal(vs.UID), "gateways %v hosts %v: the way in is kept", vs.Spec.Gateways, vs.Spec.Hosts)
			Expect(kept.OwnerReferences).To(BeEmpty())
			Expect(kept.Annotations).To(HaveKeyWithValue(traffic.AnnotationHandedBack, "Canary/"+c.Name))
			Expect(kept.Spec.GetGateways()).To(Equal(vs.Spec.GetGateways()), "the user's edit is kept")
			Expect(kept.Spec.GetHosts()).To(Equal(vs.Spec.GetHosts()))
			Expect(destinations(kept, 0)).To(Equal(map[string]int32{name: 100}))
		}
	})
})

var _ = Describe("A generated VirtualService given a route of its own by hand before the Canary goes", func() {
	It("is released sending nothing to the primary or canary Services, which go with the Canary", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Gateways: []string{"istio-system/public"}})
		name, s := c.Spec.TargetRef.Name, traffic.CanarySplit(c)
		router := istio.New(k8sClient)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
		vs := getVS(name)
		admin := proto.Clone(vs.Spec.Http[0]).(*istioapi.HTTPRoute)
		admin.Name, admin.Route = "admin", admin.Route[:1]
		vs.Spec.Http = append([]*istioapi.HTTPRoute{admin}, vs.Spec.Http...)
		Expect(k8sClient.Update(ctx, vs, client.FieldOwner("kubectl-edit"))).To(Succeed())

		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		released := getVS(name)
		Expect(released.Annotations).To(HaveKey(traffic.AnnotationHandedBack))
		Expect(released.Spec.Http).To(HaveLen(2), "the user's route is kept")
		Expect(released.Spec.Http[0].Name).To(Equal("admin"))
		Expect(destinations(released, 0)).To(Equal(map[string]int32{name: 70}), "the user's route keeps its weight, to the apex")
		Expect(destinations(released, 1)).To(Equal(map[string]int32{name: 100}))
		Expect(router.HandBackSplit(ctx, s)).To(BeFalse(), "a replay writes nothing")
	})
})
