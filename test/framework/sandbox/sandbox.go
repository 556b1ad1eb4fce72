package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/mesh"
	"github.com/sluice-dev/sluice/test/framework/podnet"
	"github.com/sluice-dev/sluice/test/framework/promserver"
	"github.com/sluice-dev/sluice/test/framework/traefik"
)

// Namespace holds the demo apps.
const Namespace = "demo"

// DefaultRate is the demo traffic, in requests per second, sent to each app.
const DefaultRate = 200

// Images say how the demo apps' pods answer, by image tag: the sandbox's
// notion of what a version does. The Canary is checked by the istio preset
// (at least 99% success, p99 at most 500 ms) and its judge, which counts a
// request slower than 100 ms as slow.
var Images = map[string]mesh.Behaviour{
	// Healthy versions: no errors, 20-50 ms.
	"v1": {Latency: 20 * time.Millisecond, Jitter: 30 * time.Millisecond},
	"v2": {Latency: 20 * time.Millisecond, Jitter: 30 * time.Millisecond},
	// A bad version: 5% errors and slow (300-700 ms), past both ceilings.
	"v3-bad": {ErrorFraction: 0.05, Latency: 300 * time.Millisecond, Jitter: 400 * time.Millisecond},
	// A subtly bad version: no errors and every request under 150 ms, well
	// inside the 500 ms p99 ceiling, but more than a third of its requests
	// take over 100 ms where the primary's take none: the judge's case.
	"v4-slow": {Latency: 20 * time.Millisecond, Jitter: 130 * time.Millisecond},
	// A blue-green version whose smoke test fails: 20% errors.
	"v2-bad": {ErrorFraction: 0.2, Latency: 20 * time.Millisecond, Jitter: 30 * time.Millisecond},
}

// Options configure Start.
type Options struct {
	// Rate is the demo traffic per app, in requests per second; zero means
	// DefaultRate.
	Rate float64
	// Dir keeps the control plane's certificates, kubeconfig and logs.
	// Empty means a temporary directory, removed by Stop.
	Dir string
	// Log receives a line per part started or stopped; nil discards them.
	Log io.Writer
	// Operator starts Sluice against the control plane whose kubeconfig
	// file it is given, with prometheus (a URL) as its default provider
	// (--default-prometheus-address), and returns how to stop it; nil runs
	// it in this process. The fault suite runs it as a separate process, to
	// kill it.
	Operator func(ctx context.Context, kubeconfig, prometheus string) (stop func() error, err error)
	// Gateway also starts what the gateway scenario needs: pods on
	// loopback addresses, Traefik as the Gateway controller, Prometheus
	// scraping it, and live traffic through it (NeedsGateway).
	Gateway bool
}

// Sandbox is everything Start brought up.
type Sandbox struct {
	// Cluster is the local control plane.
	Cluster *cluster.Cluster
	// Client reaches it as an administrator.
	Client client.Client
	// Prometheus scrapes the meshes every second.
	Prometheus *promserver.Server
	// Podinfo sends the Canary app's traffic to its apex Service, split by
	// the VirtualService Sluice writes.
	Podinfo *mesh.Mesh
	// Checkout sends the BlueGreen app's traffic to its live Service.
	Checkout *mesh.Mesh
	// Preview sends a tenth of that to the preview Service, as testers
	// would, so that the pre-promotion analysis has data.
	Preview *mesh.Mesh
	// TesterURL is the smoke-test webhook's base URL.
	TesterURL string
	// Traefik is the Gateway controller the gateway scenario releases
	// through; nil unless Options.Gateway.
	Traefik *traefik.Traefik
	// Pods serves the demo pods on their loopback addresses for Traefik;
	// nil unless Options.Gateway.
	Pods *podnet.Net
	// Edge sends the gateway app's traffic to Traefik's URL; nil unless
	// Options.Gateway.
	Edge *Edge

	rate   float64
	log    io.Writer
	cancel context.CancelFunc
	stops  []func() error // in reverse order of start
}

// Start brings up the control plane, Sluice, the meshes, Prometheus and the
// smoke tester. On error, what was started is stopped.
func Start(ctx context.Context, o Options) (_ *Sandbox, err error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &Sandbox{rate: cmp.Or(o.Rate, DefaultRate), log: o.Log, cancel: cancel}
	if s.log == nil {
		s.log = io.Discard
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()
	t0 := time.Now()
	crds, err := cluster.DefaultCRDs()
	if err != nil {
		return nil, err
	}
	podCIDR := ""
	if o.Gateway {
		// Traefik sends requests to the pods' addresses: kwok gives
		// them loopback ones, which podnet serves.
		podCIDR = gatewayPodCIDR()
		if crds, err = gatewayCRDs(crds); err != nil {
			return nil, err
		}
	}
	s.logf("starting the control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok")
	s.Cluster, err = cluster.Start(ctx, cluster.Options{Dir: o.Dir, CRDs: crds, Log: o.Log, PodCIDR: podCIDR})
	if err != nil {
		return nil, err
	}
	s.stops = append(s.stops, s.Cluster.Stop)
	s.logf("control plane up in %s; kubeconfig %s", time.Since(t0).Round(100*time.Millisecond), s.Cluster.KubeconfigPath())
	// The meshes read Services and Pods every 200 ms, the runner and the
	// view poll too: more than client-go's default 5 requests per second.
	cfg := rest.CopyConfig(s.Cluster.Config())
	cfg.QPS, cfg.Burst = 500, 1000
	if s.Client, err = client.New(cfg, client.Options{Scheme: apiserver.NewScheme()}); err != nil {
		return nil, fmt.Errorf("create a client: %w", err)
	}
	if err := installPresets(ctx, s.Client); err != nil {
		return nil, err
	}
	s.logf("analysis presets installed from config/presets")
	if err := s.startMeshes(ctx); err != nil {
		return nil, err
	}
	targets := []string{s.Podinfo.MetricsAddr(), s.Checkout.MetricsAddr(), s.Preview.MetricsAddr()}
	if o.Gateway {
		if err := s.startGateway(ctx); err != nil {
			return nil, err
		}
		targets = append(targets, s.Traefik.MetricsAddr())
	}
	s.Prometheus, err = promserver.Run(ctx, promserver.Options{Targets: targets, ScrapeInterval: time.Second})
	if err != nil {
		return nil, fmt.Errorf("start Prometheus: %w", err)
	}
	s.stops = append(s.stops, s.Prometheus.Stop)
	s.logf("Prometheus %s scraping %d targets every second", s.Prometheus.URL(), len(targets))
	// Sluice starts last: Prometheus is its default provider.
	if err := s.startOperator(ctx, o.Operator); err != nil {
		return nil, err
	}
	if err := s.startTester(); err != nil {
		return nil, err
	}
	s.logf("sandbox ready in %s", time.Since(t0).Round(100*time.Millisecond))
	return s, nil
}

// startOperator runs Sluice with start, or in this process as cmd/main.go
// wires it, without leader election and serving no endpoints; either way
// the sandbox's Prometheus is its default provider, so the demo apps'
// analyses name no address.
func (s *Sandbox) startOperator(ctx context.Context, start func(context.Context, string, string) (func() error, error)) error {
	if start == nil {
		start = func(ctx context.Context, _, prometheus string) (func() error, error) {
			return apiserver.StartOperatorWith(ctx, s.Cluster.Config(), apiserver.DefaultPrometheus(prometheus))
		}
	}
	stop, err := start(ctx, s.Cluster.KubeconfigPath(), s.Prometheus.URL())
	if err != nil {
		return fmt.Errorf("start the operator: %w", err)
	}
	s.stops = append(s.stops, func() error {
		if err := stop(); err != nil {
			return fmt.Errorf("the operator stopped: %w", err)
		}
		return nil
	})
	s.logf("Sluice started, its default provider Prometheus %s", s.Prometheus.URL())
	return nil
}

// startMeshes starts the traffic of both apps.
func (s *Sandbox) startMeshes(ctx context.Context) error {
	start := func(name, def string, rate float64, standIns ...string) (*mesh.Mesh, error) {
		b := map[string]mesh.Behaviour{}
		for _, w := range standIns {
			b[w] = mesh.Behaviour{}
		}
		o := mesh.Options{
			Client: s.Client, Namespace: Namespace, Rate: rate, Default: def,
			Endpoints: true, Images: Images, StandIns: b, RealLatency: false,
		}
		if name != "" {
			o.VirtualService = name
		}
		m, err := mesh.Start(ctx, o)
		if err != nil {
			return nil, err
		}
		s.stops = append(s.stops, m.Stop)
		return m, nil
	}
	var err error
	if s.Podinfo, err = start("podinfo", "podinfo", s.rate, "podinfo-primary", "podinfo"); err != nil {
		return err
	}
	if s.Checkout, err = start("", "checkout", s.rate, "checkout-blue", "checkout-green"); err != nil {
		return err
	}
	if s.Preview, err = start("", "checkout-preview", s.rate/10, "checkout-blue", "checkout-green"); err != nil {
		return err
	}
	s.logf("mesh emulator sending %g requests/s to podinfo and to checkout, %g to checkout-preview", s.rate, s.rate/10)
	return nil
}

// startTester serves the smoke-test webhook on a free loopback port.
func (s *Sandbox) startTester() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the smoke tester: %w", err)
	}
	srv := &http.Server{Handler: &tester{mesh: s.Checkout}, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	s.TesterURL = "http://" + l.Addr().String()
	s.stops = append(s.stops, srv.Close)
	return nil
}

// Rate is the demo traffic per app, in requests per second.
func (s *Sandbox) Rate() float64 { return s.rate }

// Stop stops everything Start started, the control plane last.
func (s *Sandbox) Stop() error {
	var errs []error
	for i := len(s.stops) - 1; i >= 0; i-- {
		errs = append(errs, s.stops[i]())
	}
	s.stops = nil
	s.cancel()
	return errors.Join(errs...)
}

func (s *Sandbox) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(s.log, format+"\n", args...)
}
