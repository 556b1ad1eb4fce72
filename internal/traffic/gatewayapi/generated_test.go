package gatewayapi_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/gatewayapi"
)

var _ = Describe("A generated HTTPRoute with a Gateway parent (north-south)", func() {
	var (
		router *gatewayapi.Router
		c      *v1alpha1.Canary
		name   string
	)
	BeforeEach(func() {
		router = gatewayapi.New(k8sClient)
		c = newCanary(v1alpha1.GatewayAPIHTTPRoute{
			ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public", Namespace: "edge", SectionName: "http"}},
			Hostnames:  []string{"shop.example.com"},
		})
		name = c.Spec.TargetRef.Name
	})

	It("is created owned by the Canary, parented by the Gateway, with all traffic to the primary", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		hr := getRoute(name)
		Expect(metav1.GetControllerOf(hr).UID).To(Equal(c.UID))
		Expect(hr.Labels).To(HaveKeyWithValue(gatewayapi.LabelManagedBy, "sluice"))
		Expect(hr.Spec.ParentRefs).To(HaveLen(1))
		ref := hr.Spec.ParentRefs[0]
		Expect(string(*ref.Group)).To(Equal(gatewayv1.GroupName))
		Expect(string(*ref.Kind)).To(Equal("Gateway"))
		Expect(string(*ref.Namespace)).To(Equal("edge"))
		Expect(string(*ref.SectionName)).To(Equal("http"))
		Expect(hr.Spec.Hostnames).To(Equal([]gatewayv1.Hostname{"shop.example.com"}))
		Expect(backends(hr, 0)).To(Equal(map[string]int32{name + "-primary": 100, name + "-canary": 0}))
		Expect(*hr.Spec.Rules[0].BackendRefs[0].Port).To(Equal(int32(9898)))
	})

	It("reads a weight back only once the implementation accepted the route's current generation", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		_, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
		var notAccepted *traffic.RouteNotAcceptedError
		Expect(errors.As(err, &notAccepted)).To(BeTrue(), "%v", err)
		Expect(notAccepted.Rejected).To(BeFalse())
		Expect(notAccepted.Reason).To(ContainSubstring("Gateway edge/public section http has no status"))
		accept(name)
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(0)))

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		w, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
		Expect(errors.As(err, &notAccepted)).To(BeTrue(), "the status is of the previous generation: %v", err)
		Expect(w).To(Equal(int32(10)))
		Expect(notAccepted.CanaryWeight).To(Equal(int32(10)))
		Expect(notAccepted.Reason).To(ContainSubstring("has not reported Accepted for generation 2"))
		accept(name)
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(10)))
	})

	It("holds with the implementation's own reason when it rejects the route", func() {
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		writeStatus(name, metav1.ConditionFalse, "NotAllowedByListeners", "no listener of Gateway edge/public allows this namespace")
		_, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
		var notAccepted *traffic.RouteNotAcceptedError
		Expect(errors.As(err, &notAccepted)).To(BeTrue(), "%v", err)
		Expect(notAccepted.Rejected).To(BeTrue())
		Expect(err.Error()).To(ContainSubstring("Accepted=False, reason NotAllowedByListeners"))
		Expect(err.Error()).To(ContainSubstring("no listener of Gateway edge/public allows this namespace"))
		Expect(err.Error()).To(ContainSubstring(controllerName))
	})

	It("carries each weight it is set to, with the rest to the primary", func() {
		for _, w := range []int32{1, 10, 50, 100, 0} {
			Expect(router.SetSplit(ctx, traffic.CanarySplit(c), w)).To(BeTrue(), "weight %d", w)
			accept(name)
			Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(w))
			Expect(backends(getRoute(name), 0)).To(Equal(map[string]int32{name + "-primary": 100 - w, name + "-canary": w}))
		}
	})

	It("is not written when the weight is already in place, nor when ensured again", func() {
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		rv := getRoute(name).ResourceVersion
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeFalse())
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(getRoute(name).ResourceVersion).To(Equal(rv))
	})

	It("keeps its weight when ensured after a spec change", func() {
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 50)).To(BeTrue())
		c.Spec.TrafficRouting.GatewayAPI.HTTPRoute.Hostnames = []string{"www.example.com"}
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		hr := getRoute(name)
		Expect(hr.Spec.Hostnames).To(Equal([]gatewayv1.Hostname{"www.example.com"}))
		Expect(backends(hr, 0)).To(Equal(map[string]int32{name + "-primary": 50, name + "-canary": 50}))
	})

	It("has a weight changed by hand put back by the next SetWeight", func() {
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		hr := getRoute(name)
		*hr.Spec.Rules[0].BackendRefs[1].Weight = 80
		*hr.Spec.Rules[0].BackendRefs[0].Weight = 20
		Expect(k8sClient.Update(ctx, hr)).To(Succeed())
		accept(name)
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(80)))
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		Expect(backends(getRoute(name), 0)).To(Equal(map[string]int32{name + "-primary": 90, name + "-canary": 10}))
	})

	It("refuses to take over an HTTPRoute of that name it did not generate, and leaves it alone", func() {
		user := &gatewayv1.HTTPRoute{}
		user.Name, user.Namespace = name, namespace
		user.Spec.ParentRefs = []gatewayv1.ParentReference{{Name: "mine"}}
		Expect(k8sClient.Create(ctx, user)).To(Succeed())
		err := router.EnsureSplit(ctx, traffic.CanarySplit(c))
		var unmanageable *traffic.UnmanageableRouteError
		Expect(errors.As(err, &unmanageable)).To(BeTrue(), "%v", err)
		_, err = router.SetSplit(ctx, traffic.CanarySplit(c), 10)
		Expect(errors.As(err, &unmanageable)).To(BeTrue(), "%v", err)
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(getRoute(name).ResourceVersion).To(Equal(user.ResourceVersion))
	})

	It("is handed back and left alone by another Canary of the same name (another UID)", func() {
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 30)).To(BeTrue())
		other := c.DeepCopy()
		other.UID = "a-canary-deleted-and-created-again"
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(other))).To(BeFalse())
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(other))).To(Succeed())
		Expect(getRoute(name).Spec.Rules[0].BackendRefs).To(HaveLen(2), "not handed back")

		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeTrue())
		Expect(backends(getRoute(name), 0)).To(Equal(map[string]int32{name: 1}))
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeFalse(), "a replay writes nothing")
	})

	It("refuses weights outside 0-100", func() {
		_, err := router.SetSplit(ctx, traffic.CanarySplit(c), 101)
		Expect(err).To(HaveOccurred())
	})
})

var _ = Describe("A generated HTTPRoute with the apex Service as parent (the mesh, GAMMA)", func() {
	It("is parented by the Service in the core group and read back from the mesh's status", func() {
		router := gatewayapi.New(k8sClient)
		port := int32(9898)
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{ParentRefs: []v1alpha1.GatewayParentRef{{Kind: "Service", Name: "placeholder", Port: &port}}})
		name := c.Spec.TargetRef.Name
		c.Spec.TrafficRouting.GatewayAPI.HTTPRoute.ParentRefs[0].Name = name
		Expect(k8sClient.Update(ctx, c)).To(Succeed())

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 25)).To(BeTrue())
		hr := getRoute(name)
		ref := hr.Spec.ParentRefs[0]
		Expect(string(*ref.Group)).To(BeEmpty())
		Expect(string(*ref.Kind)).To(Equal("Service"))
		Expect(string(ref.Name)).To(Equal(name))
		Expect(*ref.Port).To(Equal(int32(9898)))

		_, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
		var notAccepted *traffic.RouteNotAcceptedError
		Expect(errors.As(err, &notAccepted)).To(BeTrue(), "%v", err)
		Expect(notAccepted.Reason).To(ContainSubstring("Service " + namespace + "/" + name))

		// As Linkerd does: the status entry names the Service parent.
		accept(name)
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(25)))
		Expect(backends(getRoute(name), 0)).To(Equal(map[string]int32{name + "-primary": 75, name + "-canary": 25}))
	})
})
