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
	hooks   []v1alpha1.HookStatus
}

// newWorld is a cluster where the user's Deployment runs rev with 3 pods and
// nothing of Sluice's exists yet.
func newWorld(rev string) *world {
	return &world{now: t0, target: deployment(rev, 3)}
}

func (w *world) observe(gen int64) CanaryObserved {
	return CanaryObserved{Now: w.now, Generation: gen, Target: w.target, Primary: w.primary, Route: w.route,
		Hooks: append([]v1alpha1.HookStatus(nil), w.hooks...)}
}

// apply carries out one action the way the shell would; pods become ready
// only in settle.
func (w *world) apply(a Action) {
	switch a := a.(type) {
	case SetWeight:
		w.route = RouteState{Exists: true, CanaryWeight: a.Weight}
	case EnsurePrimary:
		w.primary = WorkloadState{Exists: true, Revision: a.Revision, DesiredReplicas: 3}
	case ScaleCanary:
		w.target.DesiredReplicas, w.target.ReadyReplicas = a.Replicas, min(w.target.ReadyReplicas, a.Replicas)
	case RunHook:
		if h := findHook(w.hooks, a.Name, a.Revision); h == nil || h.StartedAt.Before(&a.NotBefore) {
			started := metav1.NewTime(w.now)
			w.hooks = putHook(w.hooks, v1alpha1.HookStatus{Name: a.Name, Type: a.Type, Revision: a.Revision,
				Phase: v1alpha1.HookRunning, StartedAt: &started})
		}
	}
}

// settle makes every Deployment's pods ready and finishes hook runs with
// the given phase.
func (w *world) settle(hookPhase v1alpha1.HookPhase) {
	w.target.ReadyReplicas = w.target.DesiredReplicas
	w.primary.ReadyReplicas = w.primary.DesiredReplicas
	for i := range w.hooks {
		if w.hooks[i].Phase == v1alpha1.HookRunning {
			w.hooks[i].Phase = hookPhase
		}
	}
}

// release changes the user's template to rev, as an image bump would.
func (w *world) release(rev string) {
	w.target.Revision, w.target.ReadyReplicas = rev, 0
}

// observeWith refreshes the world's part of obs after the world changed,
// keeping the command and check already chosen.
func (w *world) observeWith(obs CanaryObserved) CanaryObserved {
	fresh := w.observe(obs.Generation)
	fresh.Command, fresh.Check = obs.Command, obs.Check
	return fresh
}
