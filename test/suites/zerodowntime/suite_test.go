package zerodowntime

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

func TestZeroDowntime(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(deadline.Scale(90 * time.Second))
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "Zero downtime: lifecycle operations under live traffic")
}

// Pod timing kwok plays: seconds to become ready, seconds to go away.
const (
	podReadyDelay  = 2 * time.Second
	podDeleteDelay = 2 * time.Second
	// rate is the live traffic of each scenario, in requests per second.
	rate = 100
)

var (
	ctx = context.Background()
	k8s client.Client
	// table collects each scenario's measurement for the report.
	table struct {
		sync.Mutex
		rows map[string]string
	}
)

var _ = BeforeSuite(func() {
	ctrllog.SetLogger(zap.New(zap.WriteTo(GinkgoWriter)))
	crds, err := cluster.DefaultCRDs()
	Expect(err).NotTo(HaveOccurred())
	cl, err := cluster.Start(ctx, cluster.Options{CRDs: crds, Log: GinkgoWriter,
		PodReadyDelay: podReadyDelay, PodDeleteDelay: podDeleteDelay, AutoscalerSyncPeriod: time.Second})
	Expect(err).NotTo(HaveOccurred(), "start the local control plane")
	DeferCleanup(func() { Expect(cl.Stop()).To(Succeed()) })
	metricsAPI, err := cl.ServeMetrics(ctx, podUsage)
	Expect(err).NotTo(HaveOccurred(), "serve the resource metrics API for the HPA controller")
	DeferCleanup(func() { Expect(metricsAPI.Close()).To(Succeed()) })
	cfg := rest.CopyConfig(cl.Config())
	cfg.QPS, cfg.Burst = 500, 1000
	k8s, err = client.New(cfg, client.Options{Scheme: apiserver.NewScheme()})
	Expect(err).NotTo(HaveOccurred())
	stop, err := apiserver.StartOperator(ctx, cl.Config(), apiserver.WithInterceptor(recordReplicaWrites()))
	Expect(err).NotTo(HaveOccurred(), "start Sluice")
	DeferCleanup(func() { Expect(stop()).To(Succeed()) })
	table.rows = map[string]string{}
})

var _ = AfterSuite(func() {
	table.Lock()
	defer table.Unlock()
	names := make([]string, 0, len(table.rows))
	for n := range table.rows {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "zero-downtime measurements (%d req/s, pods ready after %s, gone after %s):\n", rate, podReadyDelay, podDeleteDelay)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-45s %s\n", n, table.rows[n])
	}
	_, _ = fmt.Fprint(os.Stderr, b.String())
	_, _ = fmt.Fprint(GinkgoWriter, b.String())
})

// report records one scenario's measurement.
func report(scenario, row string) {
	table.Lock()
	defer table.Unlock()
	table.rows[scenario] = row
}
