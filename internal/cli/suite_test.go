package cli_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// The suite runs the plugin's commands against a real kube-apiserver and
// etcd; one spec also runs the operator and the Deployment stand-in.
func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(deadline.Scale(30 * time.Second))
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "kubectl-sluice suite")
}

var (
	env *apiserver.Env
	k8s client.Client
	ctx = context.Background()
)

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	env = apiserver.ForTest(GinkgoT())
	k8s = env.Client
})

// newNamespace creates a namespace for one test.
func newNamespace() string { return env.NewNamespace(GinkgoT(), "cli-") }

// newCanary creates a Canary named name for a Deployment of the same name,
// changed by mutate.
func newCanary(ns, name string, mutate ...func(*v1alpha1.Canary)) *v1alpha1.Canary {
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Name: name},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps: []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](10)},
				{Pause: &v1alpha1.Pause{}},
				{SetWeight: ptr.To[int32](50)},
			},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	Expect(k8s.Create(ctx, c)).To(Succeed())
	return c
}

// newBlueGreen creates a BlueGreen named name.
func newBlueGreen(ns, name string) *v1alpha1.BlueGreen {
	bg := &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef: v1alpha1.TargetRef{Name: name},
			Service:   v1alpha1.ServicePort{Port: 8080},
		},
	}
	Expect(k8s.Create(ctx, bg)).To(Succeed())
	return bg
}

// condition is a condition as the operator writes it.
func condition(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: metav1.Now()}
}
