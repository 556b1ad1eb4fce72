package hooks_test

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

// The Job hooks run against a real kube-apiserver and etcd (test/framework/apiserver). There
// is no Job controller: the specs play its part by writing the Job's status,
// which the API server validates as it would the controller's.
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
	var err error
	env, err = apiserver.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient = env.Client
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// newNamespace creates a namespace of its own for one spec.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "hooks-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
