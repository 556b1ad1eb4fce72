package operator

import (
	"errors"
	"fmt"
	"time"

	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/analysis/prometheus"
	"github.com/sluice-dev/sluice/internal/controller/bluegreen"
	"github.com/sluice-dev/sluice/internal/controller/canary"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/outbound"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/gatewayapi"
	"github.com/sluice-dev/sluice/internal/traffic/istio"
)

// DefaultWorkers is how many release objects of one kind the operator
// reconciles at once by default: enough that one slow release (a hook that
// hangs, a provider that times out) does not delay every other one.
const DefaultWorkers = 4

// Options tune Setup.
type Options struct {
	// Metrics are the collectors to update; nil creates and registers a set
	// on controller-runtime's registry.
	Metrics *metrics.Collectors
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Controller tunes every controller (tests use it to allow several
	// managers in one process, for restart tests).
	Controller func(*builder.Builder)
	// Outbound is the policy of every HTTP request a release object makes
	// Sluice send (webhooks, metric queries). The zero value is the default
	// policy, which refuses loopback: the sandbox and test suites allow it
	// explicitly.
	Outbound outbound.Policy
	// Hooks decides which Job hooks run; the zero value runs them only as
	// the namespace's default ServiceAccount.
	Hooks hooks.JobPolicy
	// DefaultProvider is the metric provider of analyses that name none;
	// nil means there is none, and such an analysis stalls its release.
	// The outbound policy applies to it as to any provider.
	DefaultProvider *analysis.DefaultProvider
}

// NewScheme returns a scheme with every kind the operator reads or writes.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	utilruntime.Must(istionetworking.AddToScheme(s))
	utilruntime.Must(gatewayv1.Install(s))
	return s
}

// Setup registers Sluice's reconcilers with mgr.
func Setup(mgr ctrl.Manager, o Options) error {
	col := o.Metrics
	if col == nil {
		col = metrics.New()
		if err := col.Register(ctrlmetrics.Registry); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	clientset, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return fmt.Errorf("create clientset: %w", err)
	}
	c := mgr.GetClient()
	routers := traffic.Registry{
		traffic.Istio:      istio.NewWithReader(c, mgr.GetAPIReader()),
		traffic.GatewayAPI: gatewayapi.New(c),
	}
	providers := analysis.Registry{
		v1alpha1.ProviderPrometheus: prometheus.Factory(prometheus.WithObserver(func(d time.Duration, err error) {
			col.ObserveQuery(string(v1alpha1.ProviderPrometheus), queryOutcome(err), d)
		}), prometheus.WithOutbound(o.Outbound)),
	}
	runner := &analysis.Runner{
		Providers:   providers,
		Credentials: analysis.SecretCredentials(mgr.GetAPIReader(), prometheus.CredentialsFromSecret),
		Default:     o.DefaultProvider,
	}
	templates := release.Resolver{Client: c, HasDefaultProvider: o.DefaultProvider != nil}
	hookRunner := &hooks.Runner{Client: c, Logs: hooks.PodLogs{Clientset: clientset}, Now: o.Now,
		HTTP: o.Outbound.HTTPClient(), Policy: o.Hooks}

	canaries := &canary.Reconciler{
		Client:    c,
		APIReader: mgr.GetAPIReader(),
		Reads:     release.NewFreshReader(c, mgr.GetAPIReader()),
		Recorder:  mgr.GetEventRecorder("sluice"),
		Routers:   routers,
		Analysis:  runner,
		Templates: templates,
		Hooks:     hookRunner,
		Metrics:   col,
		Now:       o.Now,
	}
	var opts []func(*builder.Builder)
	if o.Controller != nil {
		opts = append(opts, o.Controller)
	}
	if err := canaries.SetupWithManager(mgr, opts...); err != nil {
		return fmt.Errorf("set up the Canary reconciler: %w", err)
	}
	blueGreens := &bluegreen.Reconciler{
		Client:    c,
		APIReader: mgr.GetAPIReader(),
		Recorder:  canaries.Recorder,
		Analysis:  runner,
		Templates: templates,
		Hooks:     hookRunner,
		Routers:   routers,
		Metrics:   col,
		Now:       o.Now,
	}
	if err := blueGreens.SetupWithManager(mgr, opts...); err != nil {
		return fmt.Errorf("set up the BlueGreen reconciler: %w", err)
	}
	return nil
}

// queryOutcome labels a query's result for the latency metric.
func queryOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, analysis.ErrNoData):
		return "no_data"
	}
	return "error"
}
