package workload_test

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

// The workload model runs against a real kube-apiserver
// (test/framework/apiserver): server-side apply, defaulting and
// resourceVersions are the API server's own. No controller-manager runs, so
// Deployments get no ReplicaSets or pods unless a test creates them.
func TestWorkload(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Workload suite")
}

var (
	env       *apiserver.Env
	k8sClient client.Client
	namespace string
	ctx       = context.Background()
)

var _ = BeforeSuite(func() {
	env = apiserver.ForTest(GinkgoT())
	k8sClient, namespace = env.Client, env.NewNamespace(GinkgoT(), "workload-")
})

var targets int

// nextTarget is a fresh target name.
func nextTarget() string {
	targets++
	return fmt.Sprintf("app%d", targets)
}

// newCanary creates a valid Canary of target and returns it as stored.
func newCanary(target string) *v1alpha1.Canary {
	weight := int32(10)
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: namespace},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Kind: "Deployment", Name: target},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps:          []v1alpha1.CanaryStep{{SetWeight: &weight}},
		},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, c)).To(Succeed())
	return c
}

// newBlueGreen creates a valid BlueGreen of target and returns it as stored.
func newBlueGreen(target string) *v1alpha1.BlueGreen {
	bg := &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: namespace},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef: v1alpha1.TargetRef{Kind: "Deployment", Name: target},
			Service:   v1alpha1.ServicePort{Port: 9898},
		},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, bg)).To(Succeed())
	return bg
}
