//go:build linux

package faults

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

// view is what the invariants read of a release object's status, the same
// for both kinds where they share a meaning.
type view struct {
	kind, app string
	// release names a release: the revision in flight and when it started
	// ("" when none is in flight).
	release   string
	step      int32      // Canary: current step
	steps     int        // Canary: number of steps
	started   *time.Time // Canary: the current step's clock
	reached   int32      // Canary: the most weight status allows the canary now
	paused    bool
	aborted   bool
	promoting bool   // a promotion was decided (Canary, BlueGreen)
	passed    bool   // BlueGreen: the pre-promotion checks passed
	flipped   bool   // BlueGreen: the active Service flipped to the new color
	stable    string // stable (Canary) or active (BlueGreen) revision
	checks    int32
	errors    int32  // provider errors in a row
	waiting   string // the Reconciling condition's reason when it is True
}

// readView reads one release object's status.
func readView(ctx context.Context, c client.Client, kind, app string) (view, error) {
	key := types.NamespacedName{Namespace: sandbox.Namespace, Name: app}
	v := view{kind: kind, app: app}
	var (
		a     *v1alpha1.AnalysisStatus
		conds []metav1.Condition
	)
	if kind == sandbox.KindCanary {
		o := &v1alpha1.Canary{}
		if err := c.Get(ctx, key, o); err != nil {
			return v, err
		}
		st := o.Status
		if st.CanaryRevision != "" {
			v.release = st.CanaryRevision + "@" + stamp(st.ReleaseStartedAt)
		}
		v.step, v.steps, v.stable = st.CurrentStep, len(o.Spec.Steps), st.StableRevision
		if st.StepStartedAt != nil {
			t := st.StepStartedAt.Time
			v.started = &t
		}
		v.paused, v.aborted, v.promoting = st.PausedAt != nil, st.AbortedAt != nil, st.PromotingAt != nil || st.CanaryFullAt != nil
		v.reached = reached(o.Spec.Steps, v)
		a, conds = st.Analysis, st.Conditions
	} else {
		o := &v1alpha1.BlueGreen{}
		if err := c.Get(ctx, key, o); err != nil {
			return v, err
		}
		st := o.Status
		if st.PreviewRevision != "" {
			v.release = st.PreviewRevision + "@" + stamp(st.ReleaseStartedAt)
		}
		v.paused, v.aborted, v.promoting = st.PausedAt != nil, st.AbortedAt != nil, st.PromotingAt != nil
		v.passed, v.flipped, v.stable = st.PrePromotionPassedAt != nil, st.SwitchedAt != nil, st.ActiveRevision
		a, conds = st.Analysis, st.Conditions
	}
	if a != nil {
		v.checks, v.errors = a.Checks, a.ConsecutiveErrors
	}
	if r := meta.FindStatusCondition(conds, v1alpha1.ConditionReconciling); r != nil && r.Status == metav1.ConditionTrue {
		v.waiting = r.Reason
	}
	return v, nil
}

func stamp(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// reached is the most weight a Canary's status allows on the canary: the
// last setWeight step at or before the current one, 100 once a promotion
// moved traffic to the canary, 0 with no release in flight or after a
// rollback.
func reached(steps []v1alpha1.CanaryStep, v view) int32 {
	switch {
	case v.release == "":
		return 0
	case v.promoting:
		return 100
	case v.aborted:
		return 0
	}
	w := int32(0)
	for i, s := range steps {
		if s.SetWeight != nil && int32(i) <= v.step {
			w = *s.SetWeight
		}
	}
	return w
}

// watcher polls both release objects every 100 ms and hands each view to
// the invariants that follow them; it keeps the latest views.
type watcher struct {
	c client.Client

	mu         sync.Mutex
	latest     map[string]view
	violations []string
	steps      stepChecker
	outage     *outage
}

func (w *watcher) run(ctx context.Context, stop <-chan struct{}) {
	for {
		for _, k := range []struct{ kind, app string }{{sandbox.KindCanary, "podinfo"}, {sandbox.KindBlueGreen, "checkout"}} {
			v, err := readView(ctx, w.c, k.kind, k.app)
			if err != nil {
				continue
			}
			w.mu.Lock()
			if w.latest == nil {
				w.latest = map[string]view{}
			}
			w.latest[k.app] = v
			w.violations = append(w.violations, w.steps.observe(v)...)
			w.mu.Unlock()
			if w.outage != nil {
				w.outage.observe(v)
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// view is the latest view of app.
func (w *watcher) view(app string) (view, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.latest[app]
	return v, ok
}

func (w *watcher) found() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.violations...)
}

// stepChecker holds a Canary's steps to their order across kills and
// failovers: within one release the current step only ever moves one step
// forward (never skipped, never back), and a step's clock starts once (a
// resume after a pause shifts it, which is allowed).
type stepChecker struct {
	releases map[string]*stepTrack
	// advances counts step changes seen.
	advances int
}

type stepTrack struct {
	step    int32
	started map[int32]time.Time
	paused  bool
}

func (s *stepChecker) observe(v view) []string {
	if v.kind != sandbox.KindCanary || v.release == "" || v.aborted || v.promoting {
		return nil
	}
	if s.releases == nil {
		s.releases = map[string]*stepTrack{}
	}
	t, ok := s.releases[v.release]
	if !ok {
		t = &stepTrack{step: v.step, started: map[int32]time.Time{}}
		s.releases[v.release] = t
	}
	var out []string
	t.paused = t.paused || v.paused
	switch {
	case v.step < t.step:
		out = append(out, fmt.Sprintf("Canary %s release %s: step went back from %d to %d (a step applied twice)",
			v.app, v.release, t.step, v.step))
	case v.step > t.step+1:
		out = append(out, fmt.Sprintf("Canary %s release %s: step jumped from %d to %d (a step skipped)",
			v.app, v.release, t.step, v.step))
	}
	if v.step != t.step {
		s.advances++
		t.step, t.paused = v.step, v.paused
	}
	if v.started != nil {
		prev, seen := t.started[v.step]
		if seen && !prev.Equal(*v.started) && !t.paused {
			out = append(out, fmt.Sprintf("Canary %s release %s: step %d's clock started again (%s, then %s) with no pause between",
				v.app, v.release, v.step, prev.Format(time.RFC3339), v.started.Format(time.RFC3339)))
		}
		t.started[v.step] = *v.started
	}
	return out
}
