package gatewayapi_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/gatewayapi"
)

// A user may edit the generated route between Sluice's last reconcile and
// the Canary's deletion (Sluice puts the spec back on its next reconcile,
// but a Canary being deleted is not reconciled to its spec any more). What
// the route is reached through when it is finalized is the live route's
// parents, not only the ones the Canary's spec lists.
var _ = Describe("The end of a generated HTTPRoute its user edited before deleting the Canary", func() {
	var router *gatewayapi.Router
	BeforeEach(func() { router = gatewayapi.New(k8sClient) })

	It("with a Gateway parent added to a mesh-only (GAMMA) route, is kept and released, not deleted", func() {
		port := int32(9898)
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Kind: "Service", Name: "placeholder", Port: &port}}})
		name := c.Spec.TargetRef.Name
		c.Spec.TrafficRouting.GatewayAPI.HTTPRoute.ParentRefs[0].Name = name
		Expect(k8sClient.Update(ctx, c)).To(Succeed())
		s := traffic.CanarySplit(c)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())

		By("adding a Gateway parent by hand, as someone exposing the app outside the mesh")
		hr := getRoute(name)
		hr.Spec.ParentRefs = append(hr.Spec.ParentRefs, gatewayv1.ParentReference{Name: "public"})
		Expect(k8sClient.Update(ctx, hr, client.FieldOwner("kubectl-edit"))).To(Succeed())
		uid := hr.UID

		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		kept := getRoute(name)
		Expect(kept.UID).To(Equal(uid), "the Gateway keeps its only route to the app")
		Expect(kept.OwnerReferences).To(BeEmpty())
		Expect(kept.Annotations).To(HaveKeyWithValue(traffic.AnnotationHandedBack, "Canary/"+c.Name))
		Expect(kept.Spec.ParentRefs).To(HaveLen(2), "the user's edit is kept")
		Expect(backends(kept, 0)).To(Equal(map[string]int32{name: 1}))
	})
})

var _ = Describe("A released HTTPRoute its user takes into Git", func() {
	It("can be applied server-side by the user's tool without a conflict with Sluice", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public", Namespace: "edge"}}})
		name, s := c.Spec.TargetRef.Name, traffic.CanarySplit(c)
		router := gatewayapi.New(k8sClient)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())

		By("applying the route as Git now holds it, with another hostname, as a GitOps tool does (no force)")
		port := gatewayv1.PortNumber(9898)
		mine := &gatewayv1.HTTPRoute{}
		mine.APIVersion, mine.Kind = gatewayv1.GroupVersion.String(), "HTTPRoute"
		mine.Name, mine.Namespace = name, namespace
		mine.Spec.ParentRefs = []gatewayv1.ParentReference{{Name: "public", Namespace: ptrTo(gatewayv1.Namespace("edge"))}}
		mine.Spec.Hostnames = []gatewayv1.Hostname{"shop.example.com"}
		mine.Spec.Rules = []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name), Port: &port}}}}}}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(mine)
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{Object: obj}
		unstructured.RemoveNestedField(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("gitops"))).To(Succeed(),
			"a released route is the user's: Sluice owns none of its fields any more")
		Expect(getRoute(name).Spec.Hostnames).To(Equal([]gatewayv1.Hostname{"shop.example.com"}))
	})
})

func ptrTo[T any](v T) *T { return &v }

var _ = Describe("A generated HTTPRoute given a rule of its own by hand before the Canary goes", func() {
	It("is released sending nothing to the primary or canary Services, which go with the Canary", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public", Namespace: "edge"}}})
		name, s := c.Spec.TargetRef.Name, traffic.CanarySplit(c)
		router := gatewayapi.New(k8sClient)
		Expect(router.SetSplit(ctx, s, 30)).To(BeTrue())
		hr := getRoute(name)
		admin := *hr.Spec.Rules[0].DeepCopy()
		admin.Matches = []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Value: ptrTo("/admin")}}}
		admin.BackendRefs = admin.BackendRefs[:1]
		hr.Spec.Rules = append(hr.Spec.Rules, admin)
		Expect(k8sClient.Update(ctx, hr, client.FieldOwner("kubectl-edit"))).To(Succeed())

		Expect(router.HandBackSplit(ctx, s)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, s)).To(Succeed())
		released := getRoute(name)
		Expect(released.Annotations).To(HaveKey(traffic.AnnotationHandedBack))
		Expect(released.Spec.Rules).To(HaveLen(2), "the user's rule is kept")
		Expect(backends(released, 0)).To(Equal(map[string]int32{name: 1}))
		Expect(backends(released, 1)).To(Equal(map[string]int32{name: 70}), "the user's rule keeps its weight, to the apex")
		Expect(*released.Spec.Rules[1].Matches[0].Path.Value).To(Equal("/admin"))

		By("replaying: nothing more to write")
		Expect(router.HandBackSplit(ctx, s)).To(BeFalse())
	})
})
