package service_test

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

// The flip runs against a real kube-apiserver (test/framework/apiserver), and a watch on it
// counts the writes.
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
	var err error
	env, err = apiserver.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	Expect(err).NotTo(HaveOccurred())

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "switch-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	namespace = ns.Name
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
