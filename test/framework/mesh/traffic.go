package mesh

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"
)

// target is where one request goes: the Service it is addressed to and the
// workload whose stand-in serves it. A target with a cause has no workload:
// the mesh fails its requests.
type target struct {
	svc      service
	workload string
	cause    Cause
	// image is the image of the pods the request goes to, when it was
	// resolved through the Service's endpoints.
	image string
}

// split is the traffic split in force: the route object's destinations as
// last read, resolved to targets, and the splitter over their weights.
type split struct {
	targets  []target
	weights  []int32
	splitter *splitter
	readAt   time.Time
}

// run sends traffic every tick until ctx ends, then lets the requests in
// flight finish (for at most stopTimeout, so that every request sent is
// counted) and stops everything.
func (m *Mesh) run(ctx context.Context) {
	requests, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	jobs := make(chan target)
	var workers sync.WaitGroup
	for range m.opts.MaxInFlight {
		workers.Go(func() {
			for t := range jobs {
				m.send(requests, t)
			}
		})
	}
	tick := time.NewTicker(m.opts.Tick)
	var cur split
	pace := newPacer(time.Now(), m.Rate())
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case now := <-tick.C:
			m.refresh(ctx, &cur, now)
			m.dispatch(ctx, jobs, &cur, pace.due(now, m.Rate()))
		}
	}
	tick.Stop()
	close(jobs)
	finished := make(chan struct{})
	go func() { workers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(stopTimeout):
		abandon()
		<-finished
	}
	m.stopErr = m.shutdown()
	close(m.done)
}

// refresh reads the route object (and, with Options.Endpoints, the
// Services' endpoints) again once the last read is Refresh old. A failed
// read keeps the split in force; an unchanged split keeps the splitter's
// place in the round.
func (m *Mesh) refresh(ctx context.Context, cur *split, now time.Time) {
	if cur.splitter != nil && now.Sub(cur.readAt) < m.opts.Refresh {
		return
	}
	targets, weights, err := m.readSplit(ctx)
	m.mu.Lock()
	m.readErr = err
	m.mu.Unlock()
	if err != nil && cur.splitter != nil {
		return
	}
	cur.readAt = now
	if cur.splitter != nil && slices.Equal(cur.targets, targets) && slices.Equal(cur.weights, weights) {
		return
	}
	*cur = split{targets: targets, weights: weights, splitter: newSplitter(weights), readAt: now}
}

// readSplit reads the route object and resolves its destinations to
// weighted targets. A route that does not exist sends everything to the
// default host.
func (m *Mesh) readSplit(ctx context.Context) ([]target, []int32, error) {
	r, err := m.readRoute(ctx)
	dests, namespace := r.destinations, r.namespace
	if !r.exists {
		dests, namespace = []destination{{host: m.opts.Default, weight: 1}}, m.opts.ServiceNamespace
	}
	if len(dests) == 0 || (!r.exists && m.opts.Default == "") {
		// Why: a route object with no route for the request, or no route
		// object and nowhere to go by default: Envoy answers 404.
		return []target{{cause: CauseNoRoute}}, []int32{1}, err
	}
	res := &resolver{m: m, ctx: ctx, endpoints: map[service]resolved{}}
	targets, weights := res.resolve(dests, namespace)
	return targets, weights, errors.Join(err, res.err)
}

// dispatch hands n requests to the workers, split by cur, waiting while they
// are all busy. It counts each request as sent, or fails it in the mesh
// with its cause.
func (m *Mesh) dispatch(ctx context.Context, jobs chan<- target, cur *split, n int64) {
	for range n {
		i, ok := cur.splitter.next()
		if !ok {
			// Why: every destination has weight 0; Envoy finds no cluster.
			m.fail(target{cause: CauseNoRoute})
			continue
		}
		if t := cur.targets[i]; t.workload == "" {
			m.fail(t)
			continue
		}
		t := cur.targets[i]
		select {
		case jobs <- t:
			m.sent[t.workload].Add(1)
		case <-ctx.Done():
			return
		}
	}
}

// send makes one request of the emulator's traffic and counts it by image
// and, when it fails, as failed.
func (m *Mesh) send(ctx context.Context, t target) {
	if t.image != "" {
		m.countImage(imageTag(t.image))
	}
	code, err := m.request(ctx, t)
	if (err != nil && ctx.Err() == nil) || (err == nil && code >= http.StatusInternalServerError) {
		m.failed[t.workload].Add(1)
	}
}
