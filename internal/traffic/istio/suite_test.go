package istio_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// The Istio router runs against a real kube-apiserver with Istio's CRDs
// (test/framework/apiserver): patches, server-side apply and resourceVersions
// are the API server's own.
func TestIstioRouter(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Istio router suite")
}

var (
	env       *apiserver.Env
	k8sClient client.Client
	namespace string
	ctx       = context.Background()
)

var _ = BeforeSuite(func() {
	env = apiserver.ForTest(GinkgoT())
	k8sClient, namespace = env.Client, env.NewNamespace(GinkgoT(), "istio-")
})

var canaries int

// newCanary creates a valid Canary of a fresh target in the test namespace,
// with the given VirtualService settings, and returns it as stored.
func newCanary(vs v1alpha1.IstioVirtualService) *v1alpha1.Canary {
	canaries++
	weight := int32(10)
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app%d", canaries), Namespace: namespace},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Kind: "Deployment", Name: fmt.Sprintf("app%d", canaries)},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{VirtualService: vs}},
			Steps:          []v1alpha1.CanaryStep{{SetWeight: &weight}},
		},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, c)).To(Succeed())
	return c
}
