package gatewayapi_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// The Gateway API router runs against a real kube-apiserver with the Gateway
// API CRDs (test/framework/apiserver): patches, server-side apply, defaults
// and resourceVersions are the API server's own. No Gateway controller runs
// here: the tests write the route status an implementation would.
func TestGatewayAPIRouter(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gateway API router suite")
}

var (
	env       *apiserver.Env
	k8sClient client.Client
	namespace string
	ctx       = context.Background()
)

var _ = BeforeSuite(func() {
	env = apiserver.ForTest(GinkgoT())
	k8sClient, namespace = env.Client, env.NewNamespace(GinkgoT(), "gatewayapi-")
})

var canaries int

// newCanary creates a valid Canary of a fresh target in the test namespace,
// with the given HTTPRoute settings, and returns it as stored.
func newCanary(route v1alpha1.GatewayAPIHTTPRoute) *v1alpha1.Canary {
	canaries++
	weight := int32(10)
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app%d", canaries), Namespace: namespace},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Kind: "Deployment", Name: fmt.Sprintf("app%d", canaries)},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: route}},
			Steps:          []v1alpha1.CanaryStep{{SetWeight: &weight}},
		},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, c)).To(Succeed())
	return c
}

// getRoute reads an HTTPRoute of the test namespace.
func getRoute(name string) *gatewayv1.HTTPRoute {
	hr := &gatewayv1.HTTPRoute{}
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, hr)).To(Succeed())
	return hr
}

// controllerName is the implementation the tests play.
const controllerName = "example.com/test-gateway-controller"

// writeStatus writes, as an implementation would, the status of every
// parentRef of the route at its current generation: Accepted and
// ResolvedRefs with the given status and reason.
func writeStatus(name string, status metav1.ConditionStatus, reason, message string) {
	hr := getRoute(name)
	hr.Status.Parents = nil
	for _, ref := range hr.Spec.ParentRefs {
		entry := gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: controllerName}
		for _, t := range []string{"Accepted", "ResolvedRefs"} {
			meta.SetStatusCondition(&entry.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason,
				Message: message, ObservedGeneration: hr.Generation})
		}
		hr.Status.Parents = append(hr.Status.Parents, entry)
	}
	ExpectWithOffset(1, k8sClient.Status().Update(ctx, hr)).To(Succeed())
}

// accept writes the status of an implementation that took the route.
func accept(name string) {
	writeStatus(name, metav1.ConditionTrue, "Accepted", "Route is accepted")
}

// backends is the weight of each backendRef of rule i, by name.
func backends(hr *gatewayv1.HTTPRoute, i int) map[string]int32 {
	out := map[string]int32{}
	for _, ref := range hr.Spec.Rules[i].BackendRefs {
		w := int32(1)
		if ref.Weight != nil {
			w = *ref.Weight
		}
		out[string(ref.Name)] = w
	}
	return out
}
