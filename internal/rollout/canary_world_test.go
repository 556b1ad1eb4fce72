package rollout

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// world is a simulated cluster for multi-reconcile tests: Deployments, a
// router and hook runs that obey the actions Next returns.
type world struct {
	now     time.Time
	target  WorkloadState
	primary WorkloadState
	route   RouteState
	hooks   v1alpha1.HookPhase // how the hook runs the shell progresses end
	// annotations of the Canary, where commands are written
	annotations map[string]string
}

// command writes a command's annotation, as the plugin does: a later command
// of the same kind replaces a pending one, other kinds stay.
func (w *world) command(c v1alpha1.Command, id string) {
	if w.annotations == nil {
		w.annotations = map[string]string{}
	}
	w.annotations[v1alpha1.CommandAnnotation(c)] = id
}

// newWorld is a cluster where the user's Deployment runs rev with 3 pods and
// nothing of Sluice's exists yet.
func newWorld(rev string) *world {
	return &world{now: t0, target: deployment(rev, 3), hooks: v1alpha1.HookSucceeded}
}

func (w *world) observe(gen int64) CanaryObserved {
	return CanaryObserved{Now: w.now, Generation: gen, Target: w.target, Primary: w.primary, Route: w.route}
}

// runHooks progresses the Running runs of st as the shell would, ending
// them with w.hooks (or leaving them Running when it is empty).
func (w *world) runHooks(st v1alpha1.CanaryStatus) []v1alpha1.HookStatus {
	var out []v1alpha1.HookStatus
	for _, h := range st.Hooks {
		if h.Phase != v1alpha1.HookRunning || w.hooks == "" {
			continue
		}
		h = *h.DeepCopy()
		h.Phase, h.Attempts, h.FinishedAt = w.hooks, 1, &metav1.Time{Time: w.now}
		out = append(out, h)
	}
	return out
}

// apply carries out one action the way the shell would; pods become ready
// only in settle.
func (w *world) apply(a Action) {
	switch a := a.(type) {
	case SetWeight:
		w.route = RouteState{Exists: true, CanaryWeight: a.Weight}
	case EnsurePrimary:
		w.primary = WorkloadState{Exists: true, Revision: a.Revision, DesiredReplicas: 3}
	case ReplacePrimary:
		w.primary = WorkloadState{}
	case ScaleCanary:
		w.target.DesiredReplicas, w.target.ReadyReplicas = a.Replicas, min(w.target.ReadyReplicas, a.Replicas)
	}
}

// settle makes every Deployment's pods ready.
func (w *world) settle() {
	w.target.ReadyReplicas = w.target.DesiredReplicas
	w.primary.ReadyReplicas = w.primary.DesiredReplicas
}

// release changes the user's template to rev, as an image bump would.
func (w *world) release(rev string) {
	w.target.Revision, w.target.ReadyReplicas = rev, 0
}

// observeWith refreshes the world's part of obs after the world changed,
// keeping the command and check already chosen.
func (w *world) observeWith(obs CanaryObserved) CanaryObserved {
	fresh := w.observe(obs.Generation)
	fresh.Commands, fresh.Check, fresh.Hooks = obs.Commands, obs.Check, obs.Hooks
	return fresh
}
