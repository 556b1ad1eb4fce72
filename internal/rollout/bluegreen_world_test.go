package rollout

import (
	"errors"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// bgWorld is a simulated cluster for multi-reconcile BlueGreen tests: the
// target, two colors, the active Service and hook runs, obeying the
// actions NextBlueGreen returns the way the shell does.
type bgWorld struct {
	now     time.Time
	target  WorkloadState
	colors  map[v1alpha1.Color]*WorkloadState
	service ServiceState
	hooks   v1alpha1.HookPhase // how the hook runs the shell progresses end
	// annotations of the BlueGreen, where commands are written
	annotations map[string]string
}

// newBGWorld is a cluster where the user's Deployment runs rev with 3 pods
// and nothing of Sluice's exists yet.
func newBGWorld(rev string) *bgWorld {
	return &bgWorld{now: t0, target: deployment(rev, 3), hooks: v1alpha1.HookSucceeded,
		colors: map[v1alpha1.Color]*WorkloadState{v1alpha1.ColorBlue: {}, v1alpha1.ColorGreen: {}}}
}

func (w *bgWorld) observe(st v1alpha1.BlueGreenStatus) BlueGreenObserved {
	var hooks []v1alpha1.HookStatus
	for _, h := range st.Hooks {
		if h.Phase != v1alpha1.HookRunning || w.hooks == "" || h.Revision != st.PreviewRevision {
			continue
		}
		h = *h.DeepCopy()
		h.Phase, h.Attempts, h.FinishedAt = w.hooks, 1, &metav1.Time{Time: w.now}
		hooks = append(hooks, h)
	}
	return BlueGreenObserved{Now: w.now, Generation: 1, Target: w.target,
		Blue: *w.colors[v1alpha1.ColorBlue], Green: *w.colors[v1alpha1.ColorGreen],
		ActiveService: w.service, Hooks: hooks}
}

// errRefused is the shell's refusal of an action it cannot carry out.
var errRefused = errors.New("refused")

// apply carries out one action as the shell would: the active Service is
// created on first use (ensureServices), a flip to a color without a ready
// pod is refused, a color keeps its template when the target moved on.
func (w *bgWorld) apply(a Action) error {
	switch a := a.(type) {
	case EnsureColor:
		c := w.colors[a.Color]
		if c.Revision != a.Revision {
			if w.target.Revision != a.Revision {
				return errRefused
			}
			c.Revision, c.ReadyReplicas = a.Revision, 0
		}
		c.Exists, c.DesiredReplicas = true, a.Replicas
		c.ReadyReplicas = min(c.ReadyReplicas, a.Replicas)
	case ScaleColor:
		c := w.colors[a.Color]
		c.DesiredReplicas, c.ReadyReplicas = a.Replicas, min(c.ReadyReplicas, a.Replicas)
	case ScaleTarget:
		w.target.DesiredReplicas, w.target.ReadyReplicas = a.Replicas, min(w.target.ReadyReplicas, a.Replicas)
	case SwitchService:
		if w.colors[a.Color].ReadyReplicas == 0 {
			return errRefused
		}
		w.service = ServiceState{Exists: true, Color: a.Color}
	}
	return nil
}

// applyAll carries out actions in order and stops at the first refusal.
func (w *bgWorld) applyAll(actions []BlueGreenAction) {
	for _, a := range actions {
		if w.apply(a) != nil {
			return
		}
	}
}

// settle makes every color's pods ready.
func (w *bgWorld) settle() {
	for _, c := range w.colors {
		c.ReadyReplicas = c.DesiredReplicas
	}
}

// release changes the user's template to rev, as an image bump would.
func (w *bgWorld) release(rev string) { w.target.Revision = rev }
