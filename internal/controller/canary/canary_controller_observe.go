package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
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
	// autoscaler is the user's HorizontalPodAutoscaler on the target, nil
	// without one.
	autoscaler *autoscalingv2.HorizontalPodAutoscaler
	// hookWait is how soon a hook run in progress wants another look.
	hookWait time.Duration
}

// observe reads the world for Next, with spec (the Canary's, its analysis
// resolved) deciding whether a check is due. Only transient API errors come
// back as errors; a missing object is an observation.
func (r *Reconciler) observe(ctx context.Context, c *v1alpha1.Canary, spec v1alpha1.CanarySpec, router traffic.Router) (*observation, error) {
	now := r.now()
	obs := &observation{}
	obs.Now, obs.Generation = now, c.Generation

	var err error
	if obs.target, obs.Target, err = release.Deployment(ctx, r.Client, c.Namespace, c.Spec.TargetRef.Name); err != nil {
		return nil, err
	}
	if obs.target != nil && !obs.target.DeletionTimestamp.IsZero() {
		// Why: a target being deleted (foreground deletion, a Replace) is
		// losing its pods; it is as good as gone, and its weight must go.
		obs.target, obs.Target = nil, rollout.WorkloadState{}
	}
	if obs.primary, obs.Primary, err = release.Deployment(ctx, r.Client, c.Namespace, workload.PrimaryName(c.Spec.TargetRef.Name)); err != nil {
		return nil, err
	}
	obs.Target.Rolling = rolling(obs.target)
	if obs.primary != nil && obs.target != nil {
		obs.Primary.SelectorStale = workload.SelectorStale(obs.primary, workload.PrimaryCopy(c, obs.target, 1))
	}
	obs.Primary.Rolling = rolling(obs.primary)
	if obs.autoscaler, err = workload.FindAutoscaler(ctx, r.Client, c.Namespace, c.Spec.TargetRef.Name); err != nil {
		return nil, err
	}
	obs.Target.Autoscaled = obs.autoscaler != nil
	if obs.Primary.Autoscaled, err = r.primaryAutoscaled(ctx, c, obs.autoscaler); err != nil {
		return nil, err
	}
	if obs.Route, err = routeState(ctx, c, router); err != nil {
		return nil, err
	}
	obs.Commands = release.PendingCommands(c)
	obs.Hooks, obs.hookWait, err = release.ProgressHooks(ctx, r.Hooks, c, c.Status.Hooks, c.Status.CanaryRevision,
		hooks.OfCanary(c))
	if err != nil {
		return nil, err
	}
	if rollout.AnalysisDue(spec, c.Status, now) && obs.target != nil {
		obs.Check = r.check(ctx, c, spec.Analysis, now)
	}
	return obs, nil
}

// rolling reports whether a Deployment has yet to settle at its current
// template (see rollout.WorkloadState.Rolling); false for a missing one.
func rolling(d *appsv1.Deployment) bool {
	return d != nil && !workload.ReadinessOf(d).Complete()
}

// routeState reads the canary weight the router reports. The router's typed
// errors are observations, classified here and nowhere else: a route that
// does not exist (yet, or any more), routes that disagree (re-asserted by
// the next SetWeight) and a route Sluice cannot manage (Stalled) all reach
// the state machine; only other errors are transient.
func routeState(ctx context.Context, c *v1alpha1.Canary, router traffic.Router) (rollout.RouteState, error) {
	w, err := router.SplitWeight(ctx, traffic.CanarySplit(c))
	var (
		missing      *traffic.RouteNotFoundError
		inconsistent *traffic.InconsistentWeightsError
		unmanageable *traffic.UnmanageableRouteError
		notAccepted  *traffic.RouteNotAcceptedError
	)
	switch {
	case errors.As(err, &missing):
		return rollout.RouteState{}, nil
	case errors.As(err, &inconsistent):
		highest := int32(0)
		for _, w := range inconsistent.Weights {
			highest = max(highest, w)
		}
		return rollout.RouteState{Exists: true, CanaryWeight: highest, Inconsistent: true}, nil
	case errors.As(err, &unmanageable):
		return rollout.RouteState{Exists: true, Unmanageable: unmanageable.Error()}, nil
	case errors.As(err, &notAccepted):
		return rollout.RouteState{Exists: true, CanaryWeight: notAccepted.CanaryWeight, NotAccepted: notAccepted.Error()}, nil
	case err != nil:
		return rollout.RouteState{}, fmt.Errorf("read canary weight: %w", err)
	}
	return rollout.RouteState{Exists: true, CanaryWeight: w}, nil
}

// check runs the analysis check that is due.
func (r *Reconciler) check(ctx context.Context, c *v1alpha1.Canary, a *v1alpha1.Analysis, now time.Time) *rollout.Check {
	var prev *v1alpha1.JudgeStatus
	if c.Status.Analysis != nil {
		prev = c.Status.Analysis.Judge
	}
	name := c.Spec.TargetRef.Name
	out := r.Analysis.Run(ctx, a, analysis.Workloads{
		Namespace: c.Namespace, Name: name, Canary: name, Primary: workload.PrimaryName(name),
	}, prev, now)
	release.ObserveCheck(r.Metrics, Kind, c.Namespace, c.Name, out.Results)
	return &rollout.Check{Results: out.Results, Judge: out.Judge}
}
