package canary_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/operator"
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
	stopOperator context.CancelFunc
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
	cluster := newManager()
	Expect((&rig.DeploymentStandIn{Client: cluster.GetClient()}).SetupWithManager(cluster)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(cluster.Start(ctx)).To(Succeed())
	}()
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

// newManager returns a manager on the test API server with no metrics or
// probe endpoints, so several can run in one process.
func newManager() ctrl.Manager {
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	return mgr
}

// startOperator starts Sluice as cmd/main.go does, in a manager of its own.
func startOperator() {
	mgr := newManager()
	Expect(operator.Setup(mgr, operator.Options{
		Metrics: metrics.New(),
		Controller: func(b *builder.Builder) {
			b.WithOptions(controller.Options{SkipNameValidation: ptr.To(true)})
		},
	})).To(Succeed())
	opCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(opCtx)).To(Succeed())
	}()
	stopOperator = func() {
		cancel()
		<-done
	}
}
