package gatewayapi_test

import (
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/gatewayapi"
)

// userHTTPRoute is an HTTPRoute a user wrote by hand, with rules, matches,
// filters and backends Sluice must not touch. %[1]s is the name, %[2]s the
// namespace, %[3]s the target. Rules: 0 admin (another backend), 1 beta (a
// header match, primary and canary with no weights: 1 each by default), 2
// main (primary and canary with filters on the rule and on a backend).
const userHTTPRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: %[1]s
  namespace: %[2]s
  labels: {team: shop}
  annotations: {owner: "someone@example.com"}
spec:
  parentRefs:
  - {name: public, namespace: edge, sectionName: https}
  - {group: "", kind: Service, name: %[3]s, port: 9898}
  hostnames: [shop.example.com]
  rules:
  - name: admin
    matches: [{path: {type: PathPrefix, value: /admin}}]
    backendRefs: [{name: admin, port: 8080}]
    timeouts: {request: 5s}
  - name: beta
    matches: [{headers: [{name: x-beta, value: "1"}]}]
    backendRefs:
    - {name: %[3]s-canary, port: 9898}
    - {name: %[3]s-primary, port: 9898}
  - name: main
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-shop, value: main}]}
    backendRefs:
    - name: %[3]s-primary
      port: 9898
      weight: 100
      filters:
      - type: ResponseHeaderModifier
        responseHeaderModifier: {set: [{name: x-version, value: stable}]}
    - {name: %[3]s-canary, port: 9898, weight: 0}
`

// createUserRoute creates the user's HTTPRoute for c and returns it as
// stored, unstructured, so that every field of it can be compared.
func createUserRoute(name string, c *v1alpha1.Canary) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	text := fmt.Sprintf(userHTTPRoute, name, namespace, c.Spec.TargetRef.Name)
	ExpectWithOffset(1, yaml.Unmarshal([]byte(text), &u.Object)).To(Succeed())
	ExpectWithOffset(1, k8sClient.Create(ctx, u)).To(Succeed())
	return getUnstructured(name)
}

// getUnstructured reads an HTTPRoute as the API server stores it.
func getUnstructured(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("gateway.networking.k8s.io/v1")
	u.SetKind("HTTPRoute")
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, u)).To(Succeed())
	return u
}

// withoutWeights is the object without what a weight change may touch: the
// weights of the given rules, the status, and the metadata the API server
// keeps for every write.
func withoutWeights(u *unstructured.Unstructured, rules ...int) map[string]any {
	obj := u.DeepCopy().Object
	for _, f := range []string{"resourceVersion", "managedFields", "generation"} {
		unstructured.RemoveNestedField(obj, "metadata", f)
	}
	delete(obj, "status")
	for _, i := range rules {
		all := obj["spec"].(map[string]any)["rules"].([]any)
		for _, ref := range all[i].(map[string]any)["backendRefs"].([]any) {
			delete(ref.(map[string]any), "weight")
		}
	}
	return obj
}

var _ = Describe("A user-owned HTTPRoute", func() {
	var router *gatewayapi.Router
	BeforeEach(func() { router = gatewayapi.New(k8sClient) })

	It("gets only the weights of the rule named in rules changed; every other rule and field stays as it was", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop", Rules: []string{"main"}})
		before := createUserRoute("shop", c)
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		accept("shop")
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(0)))

		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 30)).To(BeTrue())
		after := getUnstructured("shop")
		Expect(after.GetResourceVersion()).NotTo(Equal(before.GetResourceVersion()))
		hr := getRoute("shop")
		name := c.Spec.TargetRef.Name
		Expect(backends(hr, 2)).To(Equal(map[string]int32{name + "-primary": 70, name + "-canary": 30}))
		Expect(backends(hr, 1)).To(Equal(map[string]int32{name + "-primary": 1, name + "-canary": 1}), "beta is not managed")
		Expect(withoutWeights(after, 2)).To(Equal(withoutWeights(before, 2)))
		accept("shop")
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(30)))
	})

	It("without rules, manages every rule to exactly primary and canary, and no other", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop-all"})
		before := createUserRoute("shop-all", c)
		name := c.Spec.TargetRef.Name
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 5)).To(BeTrue())
		after := getUnstructured("shop-all")
		hr := getRoute("shop-all")
		Expect(backends(hr, 1)).To(Equal(map[string]int32{name + "-primary": 95, name + "-canary": 5}))
		Expect(backends(hr, 2)).To(Equal(map[string]int32{name + "-primary": 95, name + "-canary": 5}))
		Expect(backends(hr, 0)).To(Equal(map[string]int32{"admin": 1}))
		Expect(withoutWeights(after, 1, 2)).To(Equal(withoutWeights(before, 1, 2)))
	})

	It("is not written when the weights are already in place", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop-same", Rules: []string{"main"}})
		createUserRoute("shop-same", c)
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 20)).To(BeTrue())
		rv := getUnstructured("shop-same").GetResourceVersion()
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 20)).To(BeFalse())
		Expect(router.EnsureSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(getUnstructured("shop-same").GetResourceVersion()).To(Equal(rv))
	})

	It("reports managed rules that disagree, and setting the weight puts them back in line", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop-odd"})
		createUserRoute("shop-odd", c)
		accept("shop-odd")
		_, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
		var inconsistent *traffic.InconsistentWeightsError
		Expect(errors.As(err, &inconsistent)).To(BeTrue(), "beta weighs 1:1 (50%%), main 100:0: %v", err)
		Expect(inconsistent.Weights).To(Equal(map[string]int32{"beta": 50, "main": 0}))
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 10)).To(BeTrue())
		accept("shop-odd")
		Expect(router.SplitWeight(ctx, traffic.CanarySplit(c))).To(Equal(int32(10)))
	})

	It("that is missing is reported, and nothing is created", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop-missing"})
		var missing *traffic.RouteNotFoundError
		Expect(errors.As(router.EnsureSplit(ctx, traffic.CanarySplit(c)), &missing)).To(BeTrue())
		_, err := router.SetSplit(ctx, traffic.CanarySplit(c), 10)
		Expect(errors.As(err, &missing)).To(BeTrue())
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeFalse())
	})

	It("whose named rule is missing, or splits to other backends, is unmanageable and not written", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop-bad", Rules: []string{"admin", "gone"}})
		before := createUserRoute("shop-bad", c)
		_, err := router.SetSplit(ctx, traffic.CanarySplit(c), 10)
		var unmanageable *traffic.UnmanageableRouteError
		Expect(errors.As(err, &unmanageable)).To(BeTrue(), "%v", err)
		Expect(unmanageable.Reasons).To(ConsistOf(
			ContainSubstring(`rule "admin" must have exactly two backendRefs`),
			`no rule named "gone"`))
		Expect(getUnstructured("shop-bad").GetResourceVersion()).To(Equal(before.GetResourceVersion()))
	})

	It("is handed back to the apex Service on delete, keeps every other field, and is never deleted", func() {
		c := newCanary(v1alpha1.GatewayAPIHTTPRoute{Name: "shop-back", Rules: []string{"main"}})
		before := createUserRoute("shop-back", c)
		Expect(router.SetSplit(ctx, traffic.CanarySplit(c), 40)).To(BeTrue())
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeTrue())
		hr := getRoute("shop-back")
		name := c.Spec.TargetRef.Name
		Expect(hr.Spec.Rules[2].BackendRefs).To(HaveLen(1))
		apex := hr.Spec.Rules[2].BackendRefs[0]
		Expect(string(apex.Name)).To(Equal(name))
		Expect(*apex.Port).To(Equal(int32(9898)))
		Expect(apex.Filters).To(HaveLen(1), "the primary's backend filters carry over")
		Expect(backends(hr, 1)).To(Equal(map[string]int32{name + "-primary": 1, name + "-canary": 1}), "beta is not managed")
		Expect(router.HandBackSplit(ctx, traffic.CanarySplit(c))).To(BeFalse(), "a replay writes nothing")
		Expect(router.FinalizeSplit(ctx, traffic.CanarySplit(c))).To(Succeed())
		after := getUnstructured("shop-back")
		for _, u := range []*unstructured.Unstructured{before, after} {
			unstructured.RemoveNestedField(u.Object, "spec", "rules")
		}
		Expect(withoutWeights(after)).To(Equal(withoutWeights(before)))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "shop-back"}, &gatewayv1.HTTPRoute{})).To(Succeed())
	})
})
