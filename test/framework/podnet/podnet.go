package podnet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/sluice-dev/sluice/test/framework/mesh"
)

// Defaults of Options.
const (
	// DefaultLinger is how long a pod's server keeps serving after the pod
	// is gone.
	DefaultLinger = 5 * time.Second
	// FieldManager writes the EndpointSlices.
	FieldManager = "sluice-podnet"
	// ManagedBy is the endpointslice.kubernetes.io/managed-by label of the
	// slices Start writes.
	ManagedBy = "podnet.sluice.dev"
)

// Response headers that say who answered.
const (
	// HeaderImage names the image tag of the pod that answered.
	HeaderImage = "X-Sluice-Image"
	// HeaderPod names the pod that answered.
	HeaderPod = "X-Sluice-Pod"
)

// Options configure Start.
type Options struct {
	// Namespace holds the pods and Services to serve. Required.
	Namespace string
	// Images say how the pods of an image answer, keyed by image tag (the
	// part after the last colon). A pod whose image is not listed answers
	// 200 at once.
	Images map[string]mesh.Behaviour
	// Linger is how long a pod's server keeps serving after the pod is
	// gone; zero means DefaultLinger.
	Linger time.Duration
	// Seed seeds the servers' random draws; zero means 1.
	Seed uint64
}

// Net serves the pods of a namespace and writes its Services'
// EndpointSlices. Its methods are safe for concurrent use.
type Net struct {
	opts     Options
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	kick     chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}

	mu      sync.Mutex
	servers map[string]*server // by address host:port
	applied map[string]string  // the last slice applied, by Service name
	syncErr error

	countMu  sync.Mutex
	answered map[string]int64 // answers by image tag
	failed   map[string]int64 // 5xx answers by image tag
}

// Start serves the pods of o.Namespace on their addresses and writes the
// EndpointSlices of its Services, until Stop or until ctx ends. It returns
// once the first sync is done.
func Start(ctx context.Context, cfg *rest.Config, o Options) (*Net, error) {
	if o.Namespace == "" {
		return nil, errors.New("podnet: no namespace")
	}
	for tag, b := range o.Images {
		if b.ErrorFraction < 0 || b.ErrorFraction > 1 || b.Latency < 0 || b.Jitter < 0 {
			return nil, fmt.Errorf("podnet: image %s: error fraction must be 0-1, latency and jitter not negative", tag)
		}
	}
	if o.Linger == 0 {
		o.Linger = DefaultLinger
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	cfg = rest.CopyConfig(cfg)
	// Every write of an FQDN slice draws a deprecation warning.
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("podnet: %w", err)
	}
	n := &Net{
		opts: o, client: cs, kick: make(chan struct{}, 1), done: make(chan struct{}),
		servers: map[string]*server{}, applied: map[string]string{},
		answered: map[string]int64{}, failed: map[string]int64{},
	}
	n.factory = informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(o.Namespace))
	podInformer := n.factory.Core().V1().Pods()
	svcInformer := n.factory.Core().V1().Services()
	n.pods, n.services = podInformer.Lister(), svcInformer.Lister()
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { n.poke() },
		UpdateFunc: func(any, any) { n.poke() },
		DeleteFunc: func(any) { n.poke() },
	}
	for _, inf := range []cache.SharedIndexInformer{podInformer.Informer(), svcInformer.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("podnet: %w", err)
		}
	}
	ctx, n.cancel = context.WithCancel(ctx)
	n.factory.Start(ctx.Done())
	for typ, ok := range n.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			n.cancel()
			n.factory.Shutdown()
			return nil, fmt.Errorf("podnet: the watch of %v never synced", typ)
		}
	}
	n.sync(ctx)
	go n.run(ctx)
	return n, nil
}

// poke asks the loop for a sync.
func (n *Net) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// run syncs after every change until ctx ends, and once a second so that
// lingering servers of gone pods are closed.
func (n *Net) run(ctx context.Context) {
	defer close(n.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case <-tick.C:
		}
		n.sync(ctx)
	}
}

// sync brings the servers and the slices in line with the pods and
// Services.
func (n *Net) sync(ctx context.Context) {
	pods, err := n.pods.Pods(n.opts.Namespace).List(labels.Everything())
	if err != nil {
		n.setSyncErr(fmt.Errorf("list pods: %w", err))
		return
	}
	services, err := n.services.Services(n.opts.Namespace).List(labels.Everything())
	if err != nil {
		n.setSyncErr(fmt.Errorf("list services: %w", err))
		return
	}
	errs := []error{n.syncServers(pods, time.Now())}
	for _, svc := range services {
		errs = append(errs, n.applySlice(ctx, svc, pods))
	}
	n.setSyncErr(errors.Join(errs...))
}

// setSyncErr keeps the outcome of the last sync.
func (n *Net) setSyncErr(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.syncErr = err
}

// Err is the error of the last sync, or nil when it succeeded.
func (n *Net) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.syncErr
}

// Answered is the number of requests the pods of an image tag answered,
// and how many of those with a 5xx code.
func (n *Net) Answered(tag string) (total, failed int64) {
	n.countMu.Lock()
	defer n.countMu.Unlock()
	return n.answered[tag], n.failed[tag]
}

// count records one answer of a pod of image tag.
func (n *Net) count(tag string, code int) {
	n.countMu.Lock()
	defer n.countMu.Unlock()
	n.answered[tag]++
	if code >= 500 {
		n.failed[tag]++
	}
}

// Stop stops the watches and every server, and returns once they are gone.
func (n *Net) Stop() error {
	n.cancel()
	<-n.done
	n.factory.Shutdown()
	return n.closeServers()
}

// closeServers closes every server.
func (n *Net) closeServers() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var errs []error
	for addr, s := range n.servers {
		errs = append(errs, s.close())
		delete(n.servers, addr)
	}
	return errors.Join(errs...)
}

// ready reports whether a pod takes traffic: Ready and not being deleted.
func ready(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
