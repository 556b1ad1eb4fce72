package scenarios

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "End-to-end: the sandbox's scenarios")
}

var (
	sb     *sandbox.Sandbox
	runner *sandbox.Runner
	// journal keeps what the runner did, for failure reports.
	journal struct {
		sync.Mutex
		lines []string
	}
)

var _ = BeforeSuite(func() {
	ctrllog.SetLogger(zap.New(zap.WriteTo(GinkgoWriter)))
	var err error
	sb, err = sandbox.Start(context.Background(), sandbox.Options{Log: GinkgoWriter, Gateway: gatewayE2E})
	Expect(err).NotTo(HaveOccurred(), "start the sandbox")
	DeferCleanup(func() {
		Expect(sb.Stop()).To(Succeed(), "stop the sandbox")
	})
	runner = &sandbox.Runner{Sandbox: sb, Timeout: runnerTimeout, Journal: func(line string) {
		journal.Lock()
		defer journal.Unlock()
		line = time.Now().Format(time.TimeOnly) + " " + line
		journal.lines = append(journal.lines, line)
		_, _ = fmt.Fprintln(GinkgoWriter, line)
	}}
})

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() {
		journal.Lock()
		defer journal.Unlock()
		_, _ = fmt.Fprintf(os.Stderr, "sandbox journal up to the failure:\n  %s\n", strings.Join(journal.lines, "\n  "))
	}
})

// gatewayE2E runs the gateway scenario too (SLUICE_E2E_GATEWAY=1): the
// sandbox then also starts Traefik, and its three releases add about a
// minute and a half, too much for make test.
var gatewayE2E = os.Getenv("SLUICE_E2E_GATEWAY") != ""

// sandboxTimeout bounds one release or installation, with room for a busy
// machine: the runner's own limit is runnerTimeout. Both bound hangs, not
// speed, so both stretch with deadline.Scale.
var (
	runnerTimeout  = deadline.Scale(3 * time.Minute)
	sandboxTimeout = runnerTimeout + deadline.Scale(time.Minute)
)
