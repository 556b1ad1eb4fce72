package hooks_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// The Job hooks run against a real kube-apiserver and etcd
// (test/framework/apiserver). There is no Job controller: the specs play its
// part by writing the Job's status, which the API server validates as it
// would the controller's.
func TestJobHooks(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Job hooks suite")
}

var (
	env       *apiserver.Env
	k8sClient client.Client
	ctx       = context.Background()
)

var _ = BeforeSuite(func() {
	env = apiserver.ForTest(GinkgoT())
	k8sClient = env.Client
})

// newNamespace creates a namespace of its own for one spec.
func newNamespace() string { return env.NewNamespace(GinkgoT(), "hooks-") }
