package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// These suites run against a real kube-apiserver and etcd
// (test/framework/apiserver): the validation under test is the API server's
// own, from the generated CRDs.
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
	env = apiserver.ForTest(GinkgoT())
	k8sClient, namespace = env.Client, env.NewNamespace(GinkgoT(), "api-")
})
