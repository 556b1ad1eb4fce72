package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// observation is everything one reconcile read: what Next needs, and the
// objects the actions need.
type observation struct {
	rollout.CanaryObserved
	target  *appsv1.Deployment
	primary *appsv1.Deployment
	// hookWait is how soon a hook run in progress wants another look.
	hookWait time.Duration
}

// observe reads the world for Next. Only transient API errors come back as
// errors; a missing object is an observation.
func (r *Reconciler) observe(ctx context.Context, c *v1alpha1.Canary, router traffic.Router) (*observation, error) {
	now := r.now()
	obs := &observation{}
	obs.Now, obs.Generation = now, c.Generation

	var err error
	if obs.target, obs.Target, err = r.deployment(ctx, c.Namespace, c.Spec.TargetRef.Name); err != nil {
		return nil, err
	}
	if obs.primary, obs.Primary, err = r.deployment(ctx, c.Namespace, workload.PrimaryName(c.Spec.TargetRef.Name)); err != nil {
		return nil, err
	}
	if obs.Route, err = routeState(ctx, c, router); err != nil {
		return nil, err
	}
	obs.Command = pendingCommand(c)
	if err := r.refreshHooks(ctx, c, obs); err != nil {
		return nil, err
	}
	if rollout.AnalysisDue(c.Spec, c.Status, now) && obs.target != nil {
		obs.Check = r.check(ctx, c, now)
	}
	return obs, nil
}

// deployment reads a Deployment and what Next needs of it.
func (r *Reconciler) deployment(ctx context.Context, ns, name string) (*appsv1.Deployment, rollout.WorkloadState, error) {
	d := &appsv1.Deployment{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, rollout.WorkloadState{}, nil
		}
		return nil, rollout.WorkloadState{}, fmt.Errorf("get Deployment %s/%s: %w", ns, name, err)
	}
	return d, workloadState(d), nil
}

// workloadState reads a Deployment's revision and readiness.
func workloadState(d *appsv1.Deployment) rollout.WorkloadState {
	ready := workload.ReadinessOf(d)
	return rollout.WorkloadState{
		Exists:          true,
		Revision:        workload.Revision(&d.Spec.Template),
		DesiredReplicas: ready.Desired,
		ReadyReplicas:   ready.ReadyAtRevision(),
	}
}

// routeState reads the canary weight the router reports. A route that does
// not exist (yet, or any more) is an observation, not an error.
func routeState(ctx context.Context, c *v1alpha1.Canary, router traffic.Router) (rollout.RouteState, error) {
	w, err := router.Weight(ctx, c)
	var missing *traffic.RouteNotFoundError
	switch {
	case errors.As(err, &missing):
		return rollout.RouteState{}, nil
	case err != nil:
		return rollout.RouteState{}, fmt.Errorf("read canary weight: %w", err)
	}
	return rollout.RouteState{Exists: true, CanaryWeight: w}, nil
}

// pendingCommand reads a manual command from the annotations.
func pendingCommand(c *v1alpha1.Canary) *rollout.PendingCommand {
	name := c.Annotations[v1alpha1.AnnotationCommand]
	if name == "" {
		return nil
	}
	return &rollout.PendingCommand{Name: v1alpha1.Command(name), ID: c.Annotations[v1alpha1.AnnotationCommandID]}
}

// check runs the analysis check that is due.
func (r *Reconciler) check(ctx context.Context, c *v1alpha1.Canary, now time.Time) *rollout.Check {
	var prev *v1alpha1.JudgeStatus
	if c.Status.Analysis != nil {
		prev = c.Status.Analysis.Judge
	}
	name := c.Spec.TargetRef.Name
	out := r.Analysis.Run(ctx, c.Spec.Analysis, analysis.Workloads{
		Namespace: c.Namespace, Name: name, Canary: name, Primary: workload.PrimaryName(name),
	}, prev, now)
	r.observeCheck(c, out)
	return &rollout.Check{Results: out.Results, Judge: out.Judge}
}

// refreshHooks makes progress on the hook runs of the revision in flight that
// have not finished, so that Next sees where they stand. Next records a run,
// Running, when a hook's turn comes; the shell starts and follows it here.
func (r *Reconciler) refreshHooks(ctx context.Context, c *v1alpha1.Canary, obs *observation) error {
	for i := range c.Status.Hooks {
		prev := &c.Status.Hooks[i]
		if prev.Revision != c.Status.CanaryRevision || prev.Phase != v1alpha1.HookRunning {
			continue
		}
		spec := specHook(c, prev.Name)
		if spec == nil {
			continue
		}
		run, err := r.Hooks.Run(ctx, c, hooks.FromCanary(*spec), prev.Revision, prev)
		if err != nil {
			return fmt.Errorf("run hook %s: %w", prev.Name, err)
		}
		obs.Hooks = append(obs.Hooks, run)
		if wait := r.Hooks.RequeueAfter(hooks.FromCanary(*spec), run); wait > 0 && (obs.hookWait == 0 || wait < obs.hookWait) {
			obs.hookWait = wait
		}
	}
	return nil
}

// specHook returns the spec's hook of that name, or nil.
func specHook(c *v1alpha1.Canary, name string) *v1alpha1.CanaryHook {
	for i := range c.Spec.Hooks {
		if c.Spec.Hooks[i].Name == name {
			return &c.Spec.Hooks[i]
		}
	}
	return nil
}
