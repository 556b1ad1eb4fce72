package controllertest

import (
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// RunSuite runs the Ginkgo specs of t's package as the suite name: Gomega
// fails the running spec, and Eventually waits up to a minute (scaled by
// deadline.Scale on a slow machine), polling every 200 ms.
func RunSuite(t *testing.T, name string) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	gomega.SetDefaultEventuallyTimeout(deadline.Scale(60 * time.Second))
	gomega.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	ginkgo.RunSpecs(t, name)
}

// StartSuite is what a reconciler suite's BeforeSuite does: it sends the
// operator's logs to the GinkgoWriter and starts the real operator wiring
// against a real kube-apiserver and etcd, a real Prometheus and the
// Deployment stand-in that plays the Deployment controller and kubelets
// envtest lacks (apiserver.SuiteForTest), all stopped when the suite ends.
// It returns the suite and its client.
func StartSuite() (*apiserver.Suite, client.Client) {
	ctrl.SetLogger(zap.New(zap.WriteTo(ginkgo.GinkgoWriter), zap.UseDevMode(true)))
	s := apiserver.SuiteForTest(ginkgo.GinkgoT())
	return s, s.Client
}

// StartOperator starts the suite's operator again after StopOperator; it
// fails the spec when the operator does not start.
func StartOperator(s *apiserver.Suite) {
	gomega.ExpectWithOffset(1, s.StartOperator()).To(gomega.Succeed())
}

// StopOperator stops the suite's operator and waits until it has stopped:
// what a restarted one knows is then only what status says.
func StopOperator(s *apiserver.Suite) {
	gomega.ExpectWithOffset(1, s.StopOperator()).To(gomega.Succeed())
}
