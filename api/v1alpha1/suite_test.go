package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// These suites run against a real kube-apiserver and etcd (test/framework/apiserver): the
// validation under test is the API server's own, from the generated CRDs.
func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "API validation suite")
}

var (
	env       *apiserver.Env
	k8sClient client.Client
	namespace string
	ctx       = context.Background()
)

var _ = BeforeSuite(func() {
	var err error
	env, err = apiserver.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient = env.Client

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "api-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	namespace = ns.Name
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
