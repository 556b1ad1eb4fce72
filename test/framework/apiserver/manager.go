package apiserver

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/operator"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// NewManager returns a manager on the test API server with no metrics or
// probe endpoints and no controller-name checks, so that several can run in
// one process (an operator restarted by a test is a new manager).
func (e *Env) NewManager() (ctrl.Manager, error) {
	return NewManager(e.Config)
}

// ManagerOption changes the options of a manager this package makes.
type ManagerOption func(*ctrl.Options)

// WithInterceptor sends every request of the manager's client through funcs,
// to inject faults (a refused status write, a conflict) into a real API
// server's answers. Reads of the API reader are not intercepted.
func WithInterceptor(funcs interceptor.Funcs) ManagerOption {
	return func(o *ctrl.Options) {
		o.NewClient = func(cfg *rest.Config, opts client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(cfg, opts)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(c, funcs), nil
		}
	}
}

// NewManager returns such a manager on any API server.
func NewManager(cfg *rest.Config, opts ...ManagerOption) (ctrl.Manager, error) {
	o := ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  operator.CacheOptions(nil),
		Controller: config.Controller{SkipNameValidation: ptr.To(true),
			MaxConcurrentReconciles: operator.DefaultWorkers},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return ctrl.NewManager(cfg, o)
}

// StartCluster runs the stand-ins for the cluster's own controllers that
// envtest lacks (see DeploymentStandIn) until ctx ends. errs receives the
// manager's error when it stops.
func (e *Env) StartCluster(ctx context.Context) (<-chan error, error) {
	mgr, err := e.NewManager()
	if err != nil {
		return nil, err
	}
	if err := (&DeploymentStandIn{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up the Deployment stand-in: %w", err)
	}
	return run(ctx, mgr), nil
}

// StartOperator runs Sluice as cmd/main.go wires it, in a manager of its
// own, with metrics collectors of its own. The returned stop function stops
// it and waits until it has stopped, returning its error.
func (e *Env) StartOperator(ctx context.Context, opts ...ManagerOption) (stop func() error, err error) {
	return StartOperator(ctx, e.Config, opts...)
}

// StartOperator runs Sluice so on any API server: the sandbox's local
// control plane as well as envtest.
func StartOperator(ctx context.Context, cfg *rest.Config, opts ...ManagerOption) (stop func() error, err error) {
	return StartOperatorWith(ctx, cfg, nil, opts...)
}

// StartOperatorWith is StartOperator with the operator's options changed
// by setup (nil changes nothing) before Sluice is set up: a default
// provider, for example.
func StartOperatorWith(ctx context.Context, cfg *rest.Config, setup func(*operator.Options),
	opts ...ManagerOption) (stop func() error, err error) {
	mgr, err := NewManager(cfg, opts...)
	if err != nil {
		return nil, err
	}
	o := operator.Options{
		Metrics: metrics.New(),
		// Prometheus, webhooks and stand-ins listen on loopback here; a user
		// on a laptop allows it the same way (--outbound-allow-cidrs).
		Outbound: outbound.Policy{Allow: outbound.Loopback()},
		Controller: func(b *builder.Builder) {
			b.WithOptions(controller.Options{SkipNameValidation: ptr.To(true)})
		},
	}
	if setup != nil {
		setup(&o)
	}
	if err = operator.Setup(mgr, o); err != nil {
		return nil, err
	}
	opCtx, cancel := context.WithCancel(ctx)
	errs := run(opCtx, mgr)
	return func() error {
		cancel()
		return <-errs
	}, nil
}

func run(ctx context.Context, mgr ctrl.Manager) <-chan error {
	errs := make(chan error, 1)
	go func() { errs <- mgr.Start(ctx) }()
	return errs
}

// DefaultPrometheus is a setup for StartOperatorWith: the Prometheus at
// address answers every analysis that names no provider, as the flag
// --default-prometheus-address makes it in cmd/main.go.
func DefaultPrometheus(address string) func(*operator.Options) {
	return func(o *operator.Options) {
		o.DefaultProvider = &analysis.DefaultProvider{
			Spec: v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: address},
		}
	}
}
