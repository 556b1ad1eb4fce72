package canary

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
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
}

// Observe reads the world for Next, with the spec (its analysis resolved)
// deciding whether a check is due. Only transient API errors come back as
// errors; a missing object is an observation.
func (p *pass) Observe(ctx context.Context, now time.Time) error {
	r, c := p.r, p.c
	obs := &observation{}
	obs.Now, obs.Generation = now, c.Generation

	var err error
	if obs.target, obs.Target, err = release.Deployment(ctx, r.Client, c.Namespace, c.Spec.TargetRef.Name); err != nil {
		return err
	}
	if obs.target != nil && !obs.target.DeletionTimestamp.IsZero() {
		// Why: a target being deleted (foreground deletion, a Replace) is
		// losing its pods; it is as good as gone, and its weight must go.
		obs.target, obs.Target = nil, rollout.WorkloadState{}
	}
	if obs.primary, obs.Primary, err = release.Deployment(ctx, r.Client, c.Namespace, workload.PrimaryName(c.Spec.TargetRef.Name)); err != nil {
		return err
	}
	obs.Target.Rolling = rolling(obs.target)
	if obs.primary != nil && obs.target != nil {
		obs.Primary.SelectorStale = workload.SelectorStale(obs.primary, workload.PrimaryCopy(c, obs.target, 1))
	}
	obs.Primary.Rolling = rolling(obs.primary)
	if obs.autoscaler, err = workload.FindAutoscaler(ctx, r.Client, c.Namespace, c.Spec.TargetRef.Name); err != nil {
		return err
	}
	obs.Target.Autoscaled = obs.autoscaler != nil
	if obs.Primary.Autoscaled, err = r.primaryAutoscaled(ctx, c, obs.autoscaler); err != nil {
		return err
	}
	if obs.Route, err = routeState(ctx, c, p.router); err != nil {
		return err
	}
	obs.Commands = release.PendingCommands(c)
	if rollout.AnalysisDue(p.spec, c.Status, now) && obs.target != nil {
		obs.Check = r.check(ctx, c, p.spec.Analysis, now)
	}
	p.obs = obs
	return nil
}

// rolling reports whether a Deployment has yet to settle at its current
// template (see rollout.WorkloadState.Rolling); false for a missing one.
func rolling(d *appsv1.Deployment) bool {
	return d != nil && !workload.ReadinessOf(d).Complete()
}

// routeState reads the canary weight the router reports. The router's typed
// errors are observations (classified in release.ReadRoute): a route that
// does not exist (yet, or any more), routes that disagree (re-asserted by
// the next SetWeight, the highest weight counting), a route Sluice cannot
// manage (Stalled) and weights not accepted all reach the state machine;
// only other errors are transient.
func routeState(ctx context.Context, c *v1alpha1.Canary, router traffic.Router) (rollout.RouteState, error) {
	rr, err := release.ReadRoute(router.SplitWeight(ctx, traffic.CanarySplit(c)))
	switch {
	case err != nil:
		return rollout.RouteState{}, fmt.Errorf("read canary weight: %w", err)
	case rr.Missing != "":
		return rollout.RouteState{}, nil
	}
	return rollout.RouteState{Exists: true, CanaryWeight: rr.Weight, Inconsistent: rr.Inconsistent != "",
		Unmanageable: rr.Unmanageable, NotAccepted: rr.NotAccepted}, nil
}

// check runs the analysis check that is due.
func (r *Reconciler) check(ctx context.Context, c *v1alpha1.Canary, a *v1alpha1.Analysis, now time.Time) *rollout.Check {
	name := c.Spec.TargetRef.Name
	return release.RunCheck(ctx, r.Analysis, r.Metrics, Kind, c, a, c.Status.Analysis, analysis.Workloads{
		Namespace: c.Namespace, Name: name, Canary: name, Primary: workload.PrimaryName(name),
	}, now)
}
