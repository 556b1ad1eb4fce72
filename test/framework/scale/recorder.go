package scale

import (
	"context"
	"fmt"
	"sync"
	"time"

	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// pauseEnd is when a Canary's pause at one step ends by the clock kept in
// its status, and when the benchmark saw the Canary leave that step.
type pauseEnd struct {
	due, left time.Time
}

// recorder watches the Canaries and VirtualServices of a namespace and
// records, as the events arrive, each VirtualService's canary weight and
// when a Canary leaves a timed pause.
type recorder struct {
	pause time.Duration
	steps map[int32]bool // indexes of the timed pauses

	mu      sync.Mutex
	weights map[string]int32
	waiters map[string][]weightWaiter
	started map[string]map[int32]time.Time // stepStartedAt of each pause step seen
	ends    []pauseEnd
}

type weightWaiter struct {
	want func(int32) bool
	ch   chan time.Time
}

func newRecorder(pause time.Duration, pauseSteps ...int32) *recorder {
	r := &recorder{pause: pause, steps: map[int32]bool{}, weights: map[string]int32{},
		waiters: map[string][]weightWaiter{}, started: map[string]map[int32]time.Time{}}
	for _, s := range pauseSteps {
		r.steps[s] = true
	}
	return r
}

// start runs the informers until ctx ends.
func (r *recorder) start(ctx context.Context, cfg *rest.Config, ns string) error {
	c, err := cache.New(cfg, cache.Options{Scheme: apiserver.NewScheme(), DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return err
	}
	vs, err := c.GetInformer(ctx, &istionetworking.VirtualService{})
	if err != nil {
		return err
	}
	if _, err := vs.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.route(o) },
		UpdateFunc: func(_, o any) { r.route(o) },
	}); err != nil {
		return err
	}
	canaries, err := c.GetInformer(ctx, &v1alpha1.Canary{})
	if err != nil {
		return err
	}
	if _, err := canaries.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.canary(o) },
		UpdateFunc: func(_, o any) { r.canary(o) },
	}); err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the benchmark's informers did not sync")
	}
	return nil
}

func (r *recorder) route(o any) {
	now := time.Now()
	vs, ok := o.(*istionetworking.VirtualService)
	if !ok {
		return
	}
	weight := int32(-1)
	for _, h := range vs.Spec.Http {
		for _, d := range h.Route {
			if d.Destination.GetHost() == workload.CanaryName(vs.Name) {
				weight = d.Weight
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.weights[vs.Name] = weight
	keep := r.waiters[vs.Name][:0]
	for _, w := range r.waiters[vs.Name] {
		if w.want(weight) {
			w.ch <- now
			continue
		}
		keep = append(keep, w)
	}
	r.waiters[vs.Name] = keep
}

func (r *recorder) canary(o any) {
	now := time.Now()
	c, ok := o.(*v1alpha1.Canary)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.started[c.Name]
	if seen == nil {
		seen = map[int32]time.Time{}
		r.started[c.Name] = seen
	}
	step := c.Status.CurrentStep
	if r.steps[step] && c.Status.StepStartedAt != nil && c.Status.CanaryRevision != "" &&
		c.Status.PromotingAt == nil && c.Status.AbortedAt == nil {
		seen[step] = c.Status.StepStartedAt.Time
	}
	promoting := c.Status.PromotingAt != nil || c.Status.StableRevision == c.Status.CanaryRevision
	for s, at := range seen {
		if s == step && !promoting {
			continue
		}
		// Left pause s: to the next step or the promotion. A rollback is
		// no pause's end.
		if c.Status.AbortedAt == nil {
			r.ends = append(r.ends, pauseEnd{due: at.Add(r.pause), left: now})
		}
		delete(seen, s)
	}
}

// when returns a channel that receives the time the VirtualService name is
// first seen with a weight want accepts: now, when its last weight does.
func (r *recorder) when(name string, want func(int32) bool) <-chan time.Time {
	ch := make(chan time.Time, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.weights[name]; ok && want(w) {
		ch <- time.Now()
		return ch
	}
	r.waiters[name] = append(r.waiters[name], weightWaiter{want: want, ch: ch})
	return ch
}

// lateness returns how late each pause recorded since the last call ended,
// and forgets them.
func (r *recorder) lateness() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, 0, len(r.ends))
	for _, e := range r.ends {
		out = append(out, e.left.Sub(e.due))
	}
	r.ends = nil
	return out
}
