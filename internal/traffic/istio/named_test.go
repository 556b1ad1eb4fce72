package istio_test

import (
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/istio"
)

// userVirtualService is a VirtualService a user wrote by hand, with routes
// and fields Sluice must not touch. %[1]s is the name, %[2]s the namespace,
// %[3]s the target.
const userVirtualService = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: %[1]s
  namespace: %[2]s
  labels: {team: shop}
  annotations: {owner: "someone@example.com"}
spec:
  hosts: [shop.example.com, %[3]s]
  gateways: [istio-system/public, mesh]
  http:
  - name: admin
    match: [{uri: {prefix: /admin}}]
    route: [{destination: {host: admin, port: {number: 8080}}}]
    timeout: 5s
  - name: beta
    match: [{headers: {x-beta: {exact: "1"}}}]
    route:
    - {destination: {host: %[3]s-canary}, weight: 0}
    - {destination: {host: %[3]s-primary}, weight: 100}
  - name: main
    retries: {attempts: 3, perTryTimeout: 2s}
    route:
    - destination: {host: %[3]s-primary.%[2]s.svc.cluster.local, port: {number: 9898}}
      weight: 100
      headers: {response: {set: {x-version: stable}}}
    - destination: {host: %[3]s-canary.%[2]s.svc.cluster.local, port: {number: 9898}}
    corsPolicy: {allowOrigins: [{exact: "https://shop.example.com"}]}
  tcp:
  - route: [{destination: {host: db, port: {number: 5432}}}]
`

// createUserVS creates the user's VirtualService for c and returns it as
// stored, unstructured, so that every byte of it can be compared.
func createUserVS(name string, c *v1alpha1.Canary) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	text := fmt.Sprintf(userVirtualService, name, namespace, c.Spec.TargetRef.Name)
	ExpectWithOffset(1, yaml.Unmarshal([]byte(text), &u.Object)).To(Succeed())
	ExpectWithOffset(1, k8sClient.Create(ctx, u)).To(Succeed())
	return getUnstructured(name)
}

// getUnstructured reads a VirtualService as the API server stores it.
func getUnstructured(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("networking.istio.io/v1")
	u.SetKind("VirtualService")
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, u)).To(Succeed())
	return u
}

// withoutWeights is the object without what a weight change may touch: the
// given weights, and the metadata the API server keeps for every write.
func withoutWeights(u *unstructured.Unstructured, weightPaths ...[]string) map[string]any {
	obj := u.DeepCopy().Object
	for _, f := range []string{"resourceVersion", "managedFields", "generation"} {
		unstructured.RemoveNestedField(obj, "metadata", f)
	}
	http := obj["spec"].(map[string]any)["http"].([]any)
	for _, p := range weightPaths {
		var route, dest int
		_, _ = fmt.Sscanf(p[0]+" "+p[1], "%d %d", &route, &dest)
		delete(http[route].(map[string]any)["route"].([]any)[dest].(map[string]any), "weight")
	}
	return obj
}

var _ = Describe("A user-owned VirtualService", func() {
	var router *istio.Router
	BeforeEach(func() { router = istio.New(k8sClient) })

	It("gets only the weights of the route named in routes changed; every other route and field stays byte-identical", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "shop", Routes: []string{"main"}})
		before := createUserVS("shop", c)
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(0)))

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 30)).To(BeTrue())

		after := getUnstructured("shop")
		Expect(after.GetResourceVersion()).NotTo(Equal(before.GetResourceVersion()))
		main := after.Object["spec"].(map[string]any)["http"].([]any)[2].(map[string]any)["route"].([]any)
		Expect(main[0].(map[string]any)["weight"]).To(BeEquivalentTo(70))
		Expect(main[1].(map[string]any)["weight"]).To(BeEquivalentTo(30))
		Expect(withoutWeights(after, []string{"2", "0"}, []string{"2", "1"})).
			To(Equal(withoutWeights(before, []string{"2", "0"}, []string{"2", "1"})))
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(30)))
	})

	It("without routes, manages every route to exactly primary and canary, and no other", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "shop-all"})
		before := createUserVS("shop-all", c)

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 5)).To(BeTrue())

		after := getUnstructured("shop-all")
		http := after.Object["spec"].(map[string]any)["http"].([]any)
		Expect(http[1].(map[string]any)["route"].([]any)[0].(map[string]any)["weight"]).To(BeEquivalentTo(5))
		Expect(http[1].(map[string]any)["route"].([]any)[1].(map[string]any)["weight"]).To(BeEquivalentTo(95))
		Expect(http[2].(map[string]any)["route"].([]any)[0].(map[string]any)["weight"]).To(BeEquivalentTo(95))
		Expect(http[2].(map[string]any)["route"].([]any)[1].(map[string]any)["weight"]).To(BeEquivalentTo(5))
		paths := [][]string{{"1", "0"}, {"1", "1"}, {"2", "0"}, {"2", "1"}}
		Expect(withoutWeights(after, paths...)).To(Equal(withoutWeights(before, paths...)))
	})

	It("is not written when the weights are already in place", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "shop-same", Routes: []string{"main"}})
		createUserVS("shop-same", c)
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 20)).To(BeTrue())
		rv := getUnstructured("shop-same").GetResourceVersion()

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 20)).To(BeFalse())
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(getUnstructured("shop-same").GetResourceVersion()).To(Equal(rv))
	})

	It("reports managed routes that disagree, and setting the weight puts them back in line", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "shop-odd"})
		createUserVS("shop-odd", c)
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		vs := &networkingv1.VirtualService{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "shop-odd"}, vs)).To(Succeed())
		vs.Spec.Http[1].Route[0].Weight, vs.Spec.Http[1].Route[1].Weight = 40, 60
		Expect(k8sClient.Update(ctx, vs)).To(Succeed())

		_, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
		var inconsistent *traffic.InconsistentWeightsError
		Expect(errors.As(err, &inconsistent)).To(BeTrue(), "%v", err)
		Expect(inconsistent.Weights).To(Equal(map[string]int32{"beta": 40, "main": 10}))

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(10)))
	})

	It("that is missing is a RouteNotFoundError from every method, and nothing is created", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "absent"})
		var notFound *traffic.RouteNotFoundError

		Expect(errors.As(router.EnsureSplit(ctx, traffic.CanarySplit(c)), &notFound)).To(BeTrue())
		Expect(notFound.Error()).To(Equal("VirtualService " + namespace + "/absent not found"))
		_, err := router.SetSplit(ctx, traffic.CanarySplit(c), 10)
		Expect(errors.As(err, &notFound)).To(BeTrue())
		_, err = router.SplitWeight(ctx, traffic.CanarySplit(c))
		Expect(errors.As(err, &notFound)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())

		for _, name := range []string{"absent", c.Spec.TargetRef.Name} {
			err := k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &networkingv1.VirtualService{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), name)
		}
	})

	It("naming a route it does not have is an UnmanageableRouteError, and nothing is changed", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "shop-typo", Routes: []string{"mian"}})
		before := createUserVS("shop-typo", c)

		var unmanageable *traffic.UnmanageableRouteError
		Expect(errors.As(router.EnsureSplit(ctx, traffic.CanarySplit(c)), &unmanageable)).To(BeTrue())
		Expect(unmanageable.Reasons).To(Equal([]string{`no HTTP route named "mian"`}))
		_, err := router.SetSplit(ctx, traffic.CanarySplit(c), 10)
		Expect(errors.As(err, &unmanageable)).To(BeTrue())
		Expect(getUnstructured("shop-typo").GetResourceVersion()).To(Equal(before.GetResourceVersion()))
	})

	It("gets all the traffic of its managed routes sent to the apex Service on hand-back, and is never deleted", func() {
		c := newCanary(v1alpha1.IstioVirtualService{Name: "shop-fin", Routes: []string{"main"}})
		createUserVS("shop-fin", c)
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 50)).To(BeTrue())

		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeTrue())
		vs := &networkingv1.VirtualService{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "shop-fin"}, vs)).To(Succeed())
		for _, r := range vs.Spec.Http {
			if r.Name != "main" {
				continue
			}
			Expect(r.Route).To(HaveLen(1))
			Expect(r.Route[0].Destination.Host).To(Equal(c.Spec.TargetRef.Name))
			Expect(r.Route[0].Weight).To(Equal(int32(100)))
		}
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeFalse(), "a replay writes nothing")
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "shop-fin"}, vs)).To(Succeed())
	})
})
