package bluegreen

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

// observation is everything one reconcile read.
type observation struct {
	rollout.BlueGreenObserved
	target *appsv1.Deployment
	colors map[v1alpha1.Color]*appsv1.Deployment
	// services is what the active and preview Services select; without
	// trafficRouting the active one is also ActiveService, the state
	// machine's view of what serves.
	services service.Selected
	// route is what the route was read back carrying (trafficRouting only).
	route *v1alpha1.BlueGreenRouteStatus
	// routed is the color the route was read back sending all the
	// traffic to; "" when none (trafficRouting only).
	routed v1alpha1.Color
}

// Observe reads the world for NextBlueGreen, with the spec (its analyses
// resolved) deciding whether a check is due. Only transient API errors come
// back as errors; a missing object is an observation.
func (p *pass) Observe(ctx context.Context, now time.Time) error {
	r, bg, router := p.r, p.bg, p.router
	obs := &observation{colors: map[v1alpha1.Color]*appsv1.Deployment{}}
	obs.Now, obs.Generation = now, bg.Generation
	name := bg.Spec.TargetRef.Name

	var err error
	if obs.target, obs.Target, err = release.Deployment(ctx, r.Client, bg.Namespace, name); err != nil {
		return err
	}
	for _, c := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
		d, st, err := release.Deployment(ctx, r.Client, bg.Namespace, workload.ColorName(name, c))
		if err != nil {
			return err
		}
		obs.colors[c] = d
		if c == v1alpha1.ColorBlue {
			obs.Blue = st
		} else {
			obs.Green = st
		}
	}
	if obs.services, err = service.Read(ctx, r.Client, bg); err != nil {
		return err
	}
	obs.ActiveService = obs.services.Active
	if router != nil {
		if obs.ActiveService, obs.route, err = routeState(ctx, bg, router); err != nil {
			return err
		}
		obs.routed = obs.ActiveService.Color
	}
	obs.Commands = release.PendingCommands(bg)
	if rollout.BlueGreenAnalysisDue(p.spec, bg.Status, now) {
		obs.Check = r.check(ctx, bg, p.spec, obs, now)
	}
	p.obs = obs
	return nil
}

// check runs the due analysis check (pre- or post-promotion) with the new
// color as the canary and the other color as the primary.
func (r *Reconciler) check(ctx context.Context, bg *v1alpha1.BlueGreen, spec v1alpha1.BlueGreenSpec, obs *observation, now time.Time) *rollout.Check {
	a := rollout.BlueGreenAnalysis(spec, bg.Status)
	if a == nil {
		return nil
	}
	fresh := rollout.BlueGreenNewColor(bg.Status, obs.Blue, obs.Green)
	name := bg.Spec.TargetRef.Name
	return release.RunCheck(ctx, r.Analysis, r.Metrics, Kind, bg, a, bg.Status.Analysis, analysis.Workloads{
		Namespace: bg.Namespace, Name: name,
		Canary: workload.ColorName(name, fresh), Primary: workload.ColorName(name, fresh.Other()),
	}, now)
}
