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

	promrig "github.com/sluice-dev/sluice/test/prometheus"
	"github.com/sluice-dev/sluice/test/rig"
)

// The suite runs the real operator wiring (operator.Setup) against a real
// kube-apiserver and etcd, a real Prometheus, and the Deployment stand-in
// that plays the Deployment controller and kubelets envtest lacks.
func TestCanaryController(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "Canary controller suite")
}

var (
	env        *rig.Env
	k8s        client.Client
	prometheus *promrig.Server
	ctx        context.Context
	cancelAll  context.CancelFunc
	// stopOperator stops the operator started by startOperator.
	stopOperator func()
)

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancelAll = context.WithCancel(context.Background())
	var err error
	env, err = rig.Start()
	Expect(err).NotTo(HaveOccurred())
	k8s = env.Client

	prometheus, err = promrig.Run(ctx, promrig.Options{ScrapeInterval: time.Second})
	Expect(err).NotTo(HaveOccurred())

	// The stand-in for the Deployment controller runs for the whole suite,
	// like a cluster's would, independently of operator restarts.
	_, err = env.StartCluster(ctx)
	Expect(err).NotTo(HaveOccurred())
	startOperator()
})

var _ = AfterSuite(func() {
	if cancelAll != nil {
		cancelAll()
	}
	if prometheus != nil {
		Expect(prometheus.Stop()).To(Succeed())
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// startOperator starts Sluice as cmd/main.go does, in a manager of its own.
func startOperator() {
	stop, err := env.StartOperator(ctx)
	Expect(err).NotTo(HaveOccurred())
	stopOperator = func() { Expect(stop()).To(Succeed()) }
}
