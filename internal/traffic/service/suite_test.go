package service_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// The flip runs against a real kube-apiserver (test/framework/apiserver),
// and a watch on it counts the writes.
func TestServiceSwitch(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Service switch suite")
}

var (
	env       *apiserver.Env
	k8sClient client.WithWatch
	namespace string
	ctx       = context.Background()
)

var _ = BeforeSuite(func() {
	env = apiserver.ForTest(GinkgoT())
	var err error
	k8sClient, err = client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	Expect(err).NotTo(HaveOccurred())
	namespace = env.NewNamespace(GinkgoT(), "switch-")
})
