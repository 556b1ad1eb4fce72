//go:build linux

package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

// outage is the Prometheus outage: the real server stopped mid-analysis,
// started again after a while. While it is down, no release may roll back,
// and once a release has recorded a check the provider could not answer,
// it must not move at all (no step, no promotion, no flip, no rollback).
// docs/canary.md and docs/bluegreen.md say what follows: after errorLimit
// errors in a row the release pauses (Reconciling, ProviderUnavailable) and
// stays paused after the provider is back until a person resumes it; one
// that had fewer errors goes on by itself at its next passing check.
type outage struct {
	mu       sync.Mutex
	down     bool
	held     map[string]view // per app, the view when its first provider error was seen
	lastSeen map[string]view
	found    []string
	// figures
	outages         int
	pausedApps      []string // paused for the provider when it came back
	resumed         int
	continuedAlone  []string // held with errors below the limit, went on without a resume
	errorsSeenTotal int
}

// begin marks the server down.
func (o *outage) begin() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down, o.held, o.outages = true, map[string]view{}, o.outages+1
}

// end marks it up again and returns the views of that moment.
func (o *outage) end() map[string]view {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = false
	out := map[string]view{}
	for app, v := range o.lastSeen {
		out[app] = v
	}
	return out
}

// observe checks a view against the outage's invariants.
func (o *outage) observe(v view) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lastSeen == nil {
		o.lastSeen = map[string]view{}
	}
	prev, hadPrev := o.lastSeen[v.app]
	o.lastSeen[v.app] = v
	if !o.down {
		return
	}
	if hadPrev && prev.release == v.release && !prev.aborted && v.aborted {
		o.found = append(o.found, fmt.Sprintf("%s %s rolled back during the Prometheus outage", v.kind, v.app))
	}
	h, holding := o.held[v.app]
	if !holding {
		if v.errors > 0 {
			o.held[v.app] = v
			o.errorsSeenTotal++
		}
		return
	}
	if moved := movedFrom(h, v); moved != "" {
		o.found = append(o.found, fmt.Sprintf("%s %s %s during the Prometheus outage, after a check the provider could not answer",
			v.kind, v.app, moved))
		o.held[v.app] = v
	}
}

// movedFrom says how a release moved from h to v, or "".
func movedFrom(h, v view) string {
	switch {
	case h.release != v.release:
		return fmt.Sprintf("ended (release %s, then %s)", h.release, v.release)
	case v.step != h.step:
		return fmt.Sprintf("moved from step %d to %d", h.step, v.step)
	case v.promoting != h.promoting, v.passed != h.passed, v.flipped != h.flipped, v.stable != h.stable:
		return "promoted"
	case v.aborted != h.aborted:
		return "rolled back"
	}
	return ""
}

// inject stops Prometheus once the Canary is mid-analysis (a step with
// traffic, at least one check recorded), keeps it down for d, starts it
// again, then checks and steers what follows as the docs say: a release
// paused for the provider stays paused for hold, then is resumed with the
// resume command. It returns when that is done or ctx ends.
func (o *outage) inject(ctx context.Context, stop <-chan struct{}, sb *sandbox.Sandbox, w *watcher, d, hold time.Duration,
	logf func(string, ...any)) error {
	for {
		v, ok := w.view("podinfo")
		if ok && v.release != "" && !v.aborted && !v.promoting && !v.paused && v.step >= 1 && v.checks >= 1 && v.errors == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return errors.New("the releases ended before the Canary was ever mid-analysis: no outage injected")
		case <-time.After(100 * time.Millisecond):
		}
	}
	o.begin()
	if err := sb.Prometheus.Halt(); err != nil {
		return fmt.Errorf("stop Prometheus: %w", err)
	}
	logf("outage: Prometheus stopped for %s, mid-analysis", d)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	if err := sb.Prometheus.Resume(ctx); err != nil {
		return fmt.Errorf("start Prometheus again: %w", err)
	}
	atEnd := o.end()
	logf("outage: Prometheus back after %s", d)
	return o.afterwards(ctx, sb.Client, w, atEnd, hold, logf)
}

// afterwards checks that a release paused for the provider stays paused
// for hold after the provider is back, then resumes it; one that was held
// with fewer errors must go on by itself, which the releases' outcomes show.
func (o *outage) afterwards(ctx context.Context, c client.Client, w *watcher, atEnd map[string]view, hold time.Duration, logf func(string, ...any)) error {
	var paused []view
	for _, v := range atEnd {
		if v.paused && v.waiting == v1alpha1.ReasonProviderUnavailable {
			paused = append(paused, v)
		}
	}
	deadline := time.Now().Add(hold)
	for time.Now().Before(deadline) {
		for _, p := range paused {
			v, _ := w.view(p.app)
			if !v.paused || v.release != p.release || v.step != p.step || v.checks != p.checks {
				o.record(fmt.Sprintf("%s %s did not stay paused after Prometheus came back (paused %t, step %d→%d, checks %d→%d)",
					p.kind, p.app, v.paused, p.step, v.step, p.checks, v.checks))
				deadline = time.Now()
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	o.mu.Lock()
	for _, p := range paused {
		o.pausedApps = append(o.pausedApps, p.app)
	}
	for app, v := range atEnd {
		if !v.paused && v.errors > 0 {
			o.continuedAlone = append(o.continuedAlone, app)
		}
	}
	o.mu.Unlock()
	for _, p := range paused {
		if err := resume(ctx, c, p.kind, p.app); err != nil {
			return err
		}
		o.mu.Lock()
		o.resumed++
		o.mu.Unlock()
		logf("outage: %s %s stayed paused (%s) %s after Prometheus came back; resumed", p.kind, p.app, p.waiting, hold)
	}
	return nil
}

func (o *outage) record(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.found = append(o.found, s)
}

func (o *outage) violations() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.found...)
}

// resume gives the resume command, as `kubectl sluice resume` does.
func resume(ctx context.Context, c client.Client, kind, app string) error {
	var obj client.Object = &v1alpha1.Canary{}
	if kind == sandbox.KindBlueGreen {
		obj = &v1alpha1.BlueGreen{}
	}
	obj.SetNamespace(sandbox.Namespace)
	obj.SetName(app)
	id := time.Now().UTC().Format("20060102T150405.000Z")
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q,%q:"fault suite"}}}`,
		v1alpha1.CommandAnnotation(v1alpha1.CommandResume), id, v1alpha1.CommandByAnnotation(v1alpha1.CommandResume))
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("resume %s %s: %w", kind, app, err)
	}
	return nil
}
