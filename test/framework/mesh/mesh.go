package mesh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Defaults of Options.
const (
	// DefaultTick is how often requests are sent.
	DefaultTick = 100 * time.Millisecond
	// DefaultRefresh is how long a read of the route object is reused.
	DefaultRefresh = 200 * time.Millisecond
	// DefaultMaxInFlight bounds the requests in flight.
	DefaultMaxInFlight = 64
	// DefaultSeed seeds the stand-ins' random draws.
	DefaultSeed = 1
)

// stopTimeout bounds how long Stop waits for the requests in flight.
const stopTimeout = 5 * time.Second

// Options configure a mesh started by Start.
type Options struct {
	// Client reads the route object. It may be nil when none is named.
	Client client.Reader
	// Namespace holds the route object.
	Namespace string
	// VirtualService names the VirtualService whose weights split the
	// traffic. At most one of VirtualService and HTTPRoute is set; with
	// neither, all traffic goes to Default.
	VirtualService string
	// HTTPRoute names the Gateway API HTTPRoute whose backend weights split
	// the traffic.
	HTTPRoute string
	// Route names the HTTP route of the VirtualService (or the rule of the
	// HTTPRoute) to follow. Empty means the first.
	Route string

	// Rate is the number of requests sent per second. Zero sends none.
	Rate float64
	// Default is the destination host that receives the traffic while the
	// route object does not exist: the apex Service, served by the primary.
	// Empty leaves that traffic unrouted.
	Default string

	// StandIns are the workloads to stand in for, by name, with how each
	// answers at first.
	StandIns map[string]Behaviour
	// Hosts maps destination hosts (svc, svc.ns or svc.ns.svc.cluster.local)
	// to the workload serving them, a stand-in. Nil maps the Service named
	// as each stand-in to it, unless Endpoints resolves every Service. CanaryHosts gives Sluice's Services for a
	// Canary.
	Hosts map[string]string
	// Endpoints resolves the destination hosts Hosts does not map the way
	// kube-proxy and Envoy do: to the ready pods the Service's selector
	// matches, read from the API server through Client on every refresh,
	// grouped by the Deployment that owns them. A destination's weight is
	// shared among those workloads by their ready pods; pods of a workload
	// with no stand-in, or a Service with no ready pods, leave their share
	// unrouted. The sandbox uses it so that blue-green selector flips and
	// scaled-down canaries take effect as they would in a cluster.
	Endpoints bool
	// Images, keyed by image tag (the part after the last colon, "latest"
	// when there is none), say how the pods of an image answer. They apply
	// to requests resolved through Endpoints to pods running that image,
	// in place of the stand-in's own Behaviour, so that a Deployment answers
	// as the image it runs: the emulator's answer to "deploy v3-bad".
	Images map[string]Behaviour

	// ServiceNamespace is the namespace of the Services and workloads: it
	// completes short hosts in Hosts and Default, and is the stand-ins'
	// destination_workload_namespace. Empty means Namespace.
	ServiceNamespace string

	// Seed seeds the stand-ins' random draws. Zero means DefaultSeed.
	Seed uint64
	// Tick is how often requests are sent. Zero means DefaultTick.
	Tick time.Duration
	// Refresh is how long a read of the route object is reused. Zero means
	// DefaultRefresh.
	Refresh time.Duration
	// MaxInFlight bounds the requests in flight; when they are all busy the
	// loop waits and sends the backlog later. Zero means DefaultMaxInFlight.
	MaxInFlight int
	// RealLatency makes the stand-ins sleep for the latency they draw
	// instead of only recording it.
	RealLatency bool
}

// Mesh is a running emulator. Its methods are safe for concurrent use.
type Mesh struct {
	opts      Options
	hosts     hostTable
	telemetry *telemetry
	standIns  map[string]*standIn
	client    *http.Client
	rate      atomic.Uint64 // math.Float64bits of the rate
	sent      map[string]*atomic.Int64
	failed    map[string]*atomic.Int64
	unrouted  atomic.Int64
	failures  failures

	mu      sync.Mutex
	readErr error
	images  map[string]int64 // requests sent, by image tag

	cancel  context.CancelFunc
	done    chan struct{}
	stopErr error // set before done is closed
}

// Start starts the stand-ins, the metrics endpoint and the traffic loop.
// Everything stops on Stop or when ctx ends.
func Start(ctx context.Context, opts Options) (*Mesh, error) {
	opts, hosts, err := complete(opts)
	if err != nil {
		return nil, err
	}
	images, err := imagesByTag(opts.Images)
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	m := &Mesh{
		opts: opts, hosts: hosts, standIns: map[string]*standIn{}, images: map[string]int64{},
		sent: map[string]*atomic.Int64{}, failed: map[string]*atomic.Int64{},
		failures: newFailures(), done: make(chan struct{}),
	}
	m.rate.Store(math.Float64bits(opts.Rate))
	if m.telemetry, err = newTelemetry(); err != nil {
		return nil, err
	}
	for _, w := range slices.Sorted(maps.Keys(opts.StandIns)) {
		s, err := newStandIn(w, opts.ServiceNamespace, opts.StandIns[w], images, opts.Seed, opts.RealLatency, m.telemetry)
		if err != nil {
			return nil, errors.Join(err, m.shutdown())
		}
		go s.serve()
		m.standIns[w] = s
		m.sent[w], m.failed[w] = &atomic.Int64{}, &atomic.Int64{}
	}
	m.client = &http.Client{Transport: &http.Transport{
		MaxIdleConns:        opts.MaxInFlight,
		MaxIdleConnsPerHost: opts.MaxInFlight,
		IdleConnTimeout:     10 * time.Second,
	}}
	ctx, m.cancel = context.WithCancel(ctx)
	go m.run(ctx)
	return m, nil
}

// complete checks opts and fills in the defaults.
func complete(opts Options) (Options, hostTable, error) {
	if err := validate(opts); err != nil {
		return opts, nil, fmt.Errorf("mesh: %w", err)
	}
	opts.ServiceNamespace = cmp.Or(opts.ServiceNamespace, opts.Namespace)
	opts.Tick, opts.Refresh = cmp.Or(opts.Tick, DefaultTick), cmp.Or(opts.Refresh, DefaultRefresh)
	opts.MaxInFlight, opts.Seed = cmp.Or(opts.MaxInFlight, DefaultMaxInFlight), cmp.Or(opts.Seed, DefaultSeed)
	if opts.Hosts == nil && !opts.Endpoints {
		opts.Hosts = map[string]string{}
		for w := range opts.StandIns {
			opts.Hosts[w] = w
		}
	}
	hosts, err := newHostTable(opts.Hosts, opts.ServiceNamespace)
	if err != nil {
		return opts, nil, fmt.Errorf("mesh: %w", err)
	}
	for _, w := range hosts {
		if _, ok := opts.StandIns[w]; !ok {
			return opts, nil, fmt.Errorf("mesh: hosts name workload %s, which has no stand-in", w)
		}
	}
	if _, _, ok := hosts.resolve(opts.Default, opts.ServiceNamespace); opts.Default != "" && !ok && !opts.Endpoints {
		return opts, nil, fmt.Errorf("mesh: default host %s is not in the hosts", opts.Default)
	}
	return opts, hosts, nil
}

// validate checks the options that need no defaults.
func validate(opts Options) error {
	if opts.VirtualService != "" && opts.HTTPRoute != "" {
		return errors.New("set at most one of VirtualService and HTTPRoute")
	}
	if (opts.VirtualService != "" || opts.HTTPRoute != "") && (opts.Client == nil || opts.Namespace == "") {
		return errors.New("a route object needs a Client and a Namespace")
	}
	if opts.Endpoints && opts.Client == nil {
		return errors.New("endpoints are read through a Client; set one")
	}
	if err := validRate(opts.Rate); err != nil {
		return err
	}
	if len(opts.StandIns) == 0 {
		return errors.New("no stand-ins")
	}
	for w, b := range opts.StandIns {
		if err := b.validate(); err != nil {
			return fmt.Errorf("stand-in %s: %w", w, err)
		}
	}
	if opts.ServiceNamespace == "" && opts.Namespace == "" {
		return errors.New("set ServiceNamespace or Namespace")
	}
	if opts.Tick < 0 || opts.Refresh < 0 || opts.MaxInFlight < 0 {
		return errors.New("tick, refresh and requests in flight must not be negative")
	}
	return nil
}

// validRate reports a rate that is not a number of requests per second.
func validRate(rate float64) error {
	if rate < 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return fmt.Errorf("rate %v is not a number of requests per second", rate)
	}
	return nil
}

// MetricsAddr is the host:port of the metrics endpoint, for Prometheus to
// scrape at /metrics.
func (m *Mesh) MetricsAddr() string {
	return m.telemetry.addr()
}

// StandInURL is the base URL of a workload's stand-in, or "" for an unknown
// workload. Requests sent there directly are counted under the Service their
// Host header names, or "unknown".
func (m *Mesh) StandInURL(workload string) string {
	if s, ok := m.standIns[workload]; ok {
		return s.url()
	}
	return ""
}

// SetBehaviour changes how a workload's stand-in answers from now on.
func (m *Mesh) SetBehaviour(workload string, b Behaviour) error {
	s, ok := m.standIns[workload]
	if !ok {
		return fmt.Errorf("mesh: no stand-in for workload %s", workload)
	}
	if err := b.validate(); err != nil {
		return fmt.Errorf("mesh: stand-in %s: %w", workload, err)
	}
	s.setBehaviour(b)
	return nil
}

// SetRate changes the number of requests sent per second.
func (m *Mesh) SetRate(rate float64) error {
	if err := validRate(rate); err != nil {
		return fmt.Errorf("mesh: %w", err)
	}
	m.rate.Store(math.Float64bits(rate))
	return nil
}

// Rate is the number of requests sent per second.
func (m *Mesh) Rate() float64 {
	return math.Float64frombits(m.rate.Load())
}

// Sent is the number of requests the emulator has sent to a workload.
func (m *Mesh) Sent(workload string) int64 {
	if c, ok := m.sent[workload]; ok {
		return c.Load()
	}
	return 0
}

// Failed is the number of requests sent to a workload that were answered
// with a 5xx code or not answered at all.
func (m *Mesh) Failed(workload string) int64 {
	if c, ok := m.failed[workload]; ok {
		return c.Load()
	}
	return 0
}

// SentToImage is the number of requests the emulator has sent to pods
// running an image of the given tag, resolved through Options.Endpoints:
// which version served the traffic.
func (m *Mesh) SentToImage(tag string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.images[tag]
}

// countImage counts one request sent to pods of an image tag.
func (m *Mesh) countImage(tag string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.images[tag]++
}

// Unrouted is the number of requests the emulator could not send to a
// stand-in and failed itself, as Envoy would (see Failures for the count by
// cause): their share went to a destination with no ready endpoint, to a
// Service that does not exist, or there was no route.
func (m *Mesh) Unrouted() int64 {
	return m.unrouted.Load()
}

// ReadError is the error of the last read of the route object, or nil when
// it succeeded. While reads fail, the emulator keeps the last split it read,
// or sends to Default when no read has succeeded yet.
func (m *Mesh) ReadError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.readErr
}

// Done is closed once the emulator has stopped.
func (m *Mesh) Done() <-chan struct{} {
	return m.done
}

// Stop stops the traffic, the stand-ins and the metrics endpoint, and
// returns once they are gone. Calling it again returns the same result.
func (m *Mesh) Stop() error {
	m.cancel()
	<-m.done
	return m.stopErr
}

// shutdown stops the servers that were started.
func (m *Mesh) shutdown() error {
	if m.client != nil {
		m.client.CloseIdleConnections()
	}
	var errs []error
	for _, w := range slices.Sorted(maps.Keys(m.standIns)) {
		errs = append(errs, m.standIns[w].close())
	}
	errs = append(errs, m.telemetry.close())
	return errors.Join(errs...)
}
