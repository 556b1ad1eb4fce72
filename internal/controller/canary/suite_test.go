package canary_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// The suite runs the real operator wiring against a real kube-apiserver
// and etcd, a real Prometheus and the Deployment stand-in
// (controllertest.StartSuite).
func TestCanaryController(t *testing.T) { controllertest.RunSuite(t, "Canary controller suite") }

var (
	suite *apiserver.Suite
	k8s   client.Client
	ctx   = context.Background()
)

var _ = BeforeSuite(func() { suite, k8s = controllertest.StartSuite() })
