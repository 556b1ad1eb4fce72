//go:build linux

package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

// reassertBound is how long a drifted weight may stay wrong while the
// operator runs: the VirtualService is watched, so one reconcile puts it
// back; the bound allows a loaded machine's event delivery and queue.
const reassertBound = 10 * time.Second

// Weights the GitOps stand-in's "Git" holds for podinfo's VirtualService:
// the manifest committed at rest (all on the primary), used mid-step; and a
// snapshot taken mid-release, used at rest. A revert mid-step never raises
// the canary's weight, so the weight invariants keep their meaning.
const (
	gitWeightMidStep = 0
	gitWeightAtRest  = 50
)

// drifter is the GitOps stand-in: it reverts podinfo's route weights to
// what its Git holds, mid-step during releases that should promote and at
// rest between rounds, and measures how long Sluice takes to put them back.
// It holds calm while it measures, so that no kill lands in between: the
// figure is Sluice's reaction, not the operator's downtime.
type drifter struct {
	c    client.Client
	op   *operator
	w    *watcher
	calm *sync.Mutex
	rng  *rand.Rand

	mu       sync.Mutex
	current  sandbox.Release // the podinfo line's release in flight
	midStep  []time.Duration
	atRest   []time.Duration
	found    []string
	refusals int // reverts refused because Sluice wrote first (retried)
}

// releasing tells the drifter which release the podinfo line runs.
func (d *drifter) releasing(rel sandbox.Release) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.current = rel
}

// runMidStep reverts the weights once per release that should promote, at
// a step chosen at random among those that carry traffic, until stop is
// closed.
func (d *drifter) runMidStep(ctx context.Context, stop <-chan struct{}) {
	done, target := "", int32(-1)
	for {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		d.mu.Lock()
		want := d.current.Want
		d.mu.Unlock()
		v, ok := d.w.view("podinfo")
		if !ok || want != sandbox.Promoted || v.release == "" || v.release == done {
			continue
		}
		if target < 0 {
			target = 1 + d.rng.Int32N(int32(max(v.steps-1, 1)))
		}
		if v.step < target || v.started == nil || v.paused || v.promoting || v.aborted || v.reached == 0 {
			continue
		}
		if err := d.revert(ctx, v.release, gitWeightMidStep, true); err != nil {
			d.record(err.Error())
		}
		done, target = v.release, -1
	}
}

// atRestDrifts waits until podinfo is at rest (no release in flight, the
// canary drained to zero replicas) and reverts its weights n times.
func (d *drifter) atRestDrifts(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, deadline.Scale(time.Minute))
	defer cancel()
	var rest view
	for {
		v, ok := d.w.view("podinfo")
		dep := &appsv1.Deployment{}
		err := d.c.Get(ctx, types.NamespacedName{Namespace: sandbox.Namespace, Name: "podinfo"}, dep)
		if ok && err == nil && (v.release == "" || v.aborted) && dep.Status.Replicas == 0 {
			rest = v
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("podinfo did not come to rest within %s: %w", deadline.Scale(time.Minute), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	for range n {
		if err := d.revert(ctx, rest.release, gitWeightAtRest, false); err != nil {
			return err
		}
		time.Sleep(time.Second)
	}
	return nil
}

// revert writes the Git weight to podinfo's VirtualService once the
// operator is active, then measures how long until the route carries what
// status allows again. release is the release status must still name (the
// last one, rolled back, or "" at rest).
func (d *drifter) revert(ctx context.Context, release string, gitWeight int32, midStep bool) error {
	d.calm.Lock()
	defer d.calm.Unlock()
	actx, cancel := context.WithTimeout(ctx, deadline.Scale(time.Minute))
	defer cancel()
	if err := d.op.waitActive(actx); err != nil {
		return err
	}
	for wait := time.Now(); ; {
		if time.Since(wait) > deadline.Scale(30*time.Second) {
			return fmt.Errorf("podinfo's route never settled at its step's weight to revert it (release %s)", release)
		}
		v, _ := d.w.view("podinfo")
		if v.release != release || (midStep && (v.paused || v.promoting || v.aborted)) {
			return nil // the step ended meanwhile: nothing to revert now
		}
		vs := &networkingv1.VirtualService{}
		if err := d.c.Get(ctx, types.NamespacedName{Namespace: sandbox.Namespace, Name: "podinfo"}, vs); err != nil {
			return fmt.Errorf("read podinfo's VirtualService: %w", err)
		}
		if w, ok := canaryWeight(vs); !ok || w != v.reached {
			time.Sleep(50 * time.Millisecond) // Sluice is writing: wait for it
			continue
		}
		setWeights(vs, gitWeight)
		err := d.c.Update(ctx, vs)
		if err == nil {
			break
		}
		d.mu.Lock()
		d.refusals++
		d.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return d.measure(ctx, release, gitWeight, midStep)
}

// measure follows podinfo's route after a revert to gitWeight until it
// carries what status allows again, and keeps how long that took.
func (d *drifter) measure(ctx context.Context, release string, gitWeight int32, midStep bool) error {
	t0 := time.Now()
	for {
		vs := &networkingv1.VirtualService{}
		err := d.c.Get(ctx, types.NamespacedName{Namespace: sandbox.Namespace, Name: "podinfo"}, vs)
		v, _ := d.w.view("podinfo")
		if v.release != release {
			return nil // the release ended meanwhile: no figure
		}
		if err == nil {
			if w, ok := canaryWeight(vs); ok && w != gitWeight && w == v.reached {
				d.mu.Lock()
				if midStep {
					d.midStep = append(d.midStep, time.Since(t0))
				} else {
					d.atRest = append(d.atRest, time.Since(t0))
				}
				d.mu.Unlock()
				return nil
			}
		}
		if time.Since(t0) > reassertBound {
			return fmt.Errorf("podinfo's weights reverted by the GitOps stand-in to canary %d%% (%s) were not re-asserted within %s",
				gitWeight, map[bool]string{true: "mid-step", false: "at rest"}[midStep], reassertBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *drifter) record(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.found = append(d.found, s)
}

// figures are the drifts injected and how long re-assertion took.
func (d *drifter) figures() (midStep, atRest []time.Duration, refusals int, found []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.midStep), slices.Clone(d.atRest), d.refusals, slices.Clone(d.found)
}

// canaryWeight is the weight a VirtualService gives podinfo's canary.
func canaryWeight(vs *networkingv1.VirtualService) (int32, bool) {
	for _, h := range vs.Spec.GetHttp() {
		for _, r := range h.GetRoute() {
			if strings.HasPrefix(r.GetDestination().GetHost(), workload.CanaryName("podinfo")) {
				return r.GetWeight(), true
			}
		}
	}
	return 0, false
}

// setWeights gives podinfo's canary w and its primary the rest, on every
// route.
func setWeights(vs *networkingv1.VirtualService, w int32) {
	for _, h := range vs.Spec.GetHttp() {
		for _, r := range h.GetRoute() {
			switch host := r.GetDestination().GetHost(); {
			case strings.HasPrefix(host, workload.CanaryName("podinfo")):
				r.Weight = w
			case strings.HasPrefix(host, workload.PrimaryName("podinfo")):
				r.Weight = 100 - w
			}
		}
	}
}
