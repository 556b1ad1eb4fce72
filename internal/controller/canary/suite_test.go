package canary_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/promserver"
)

// The suite runs the real operator wiring (operator.Setup) against a real
// kube-apiserver and etcd, a real Prometheus, and the Deployment stand-in
// that plays the Deployment controller and kubelets envtest lacks.
func TestCanaryController(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(deadline.Scale(60 * time.Second))
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "Canary controller suite")
}

var (
	suite      *apiserver.Suite
	k8s        client.Client
	prometheus *promserver.Server
	ctx        = context.Background()
)

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	suite = apiserver.SuiteForTest(GinkgoT())
	k8s, prometheus = suite.Client, suite.Prometheus
})

func startOperator() { Expect(suite.StartOperator()).To(Succeed()) }

func stopOperator() { Expect(suite.StopOperator()).To(Succeed()) }
