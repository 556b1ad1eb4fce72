package bluegreen

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// observation is everything one reconcile read.
type observation struct {
	rollout.BlueGreenObserved
	target   *appsv1.Deployment
	colors   map[v1alpha1.Color]*appsv1.Deployment
	services bool // the active and preview Services exist
	hookWait time.Duration
	// apex is what the active Service selects; without trafficRouting it
	// is also ActiveService, the state machine's view of what serves.
	apex rollout.ServiceState
	// previewColor is the color the preview Service selects.
	previewColor v1alpha1.Color
	// route is what the route was read back carrying (trafficRouting only).
	route *v1alpha1.BlueGreenRouteStatus
	// routed is the color the route was read back sending all the
	// traffic to; "" when none (trafficRouting only).
	routed v1alpha1.Color
}

// observe reads the world for NextBlueGreen, with spec (the BlueGreen's, its
// analyses resolved) deciding whether a check is due. Only transient API
// errors come back as errors; a missing object is an observation.
func (r *Reconciler) observe(ctx context.Context, bg *v1alpha1.BlueGreen, spec v1alpha1.BlueGreenSpec, router traffic.Router) (*observation, error) {
	now := r.now()
	obs := &observation{colors: map[v1alpha1.Color]*appsv1.Deployment{}}
	obs.Now, obs.Generation = now, bg.Generation
	name := bg.Spec.TargetRef.Name

	var err error
	if obs.target, obs.Target, err = release.Deployment(ctx, r.Client, bg.Namespace, name); err != nil {
		return nil, err
	}
	for _, c := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
		d, st, err := release.Deployment(ctx, r.Client, bg.Namespace, workload.ColorName(name, c))
		if err != nil {
			return nil, err
		}
		obs.colors[c] = d
		if c == v1alpha1.ColorBlue {
			obs.Blue = st
		} else {
			obs.Green = st
		}
	}
	if obs.apex, obs.previewColor, obs.services, err = r.activeService(ctx, bg); err != nil {
		return nil, err
	}
	obs.ActiveService = obs.apex
	if router != nil {
		if obs.ActiveService, obs.route, err = routeState(ctx, bg, router); err != nil {
			return nil, err
		}
		obs.routed = obs.ActiveService.Color
	}
	obs.Commands = release.PendingCommands(bg)
	obs.Hooks, obs.hookWait, err = release.ProgressHooks(ctx, r.Hooks, bg, bg.Status.Hooks, bg.Status.PreviewRevision,
		hooks.OfBlueGreen(bg))
	if err != nil {
		return nil, err
	}
	if rollout.BlueGreenAnalysisDue(spec, bg.Status, now) {
		obs.Check = r.check(ctx, bg, spec, obs, now)
	}
	return obs, nil
}

// activeService reads the color the active Service selects, the one the
// preview Service selects, and whether both Services exist.
func (r *Reconciler) activeService(ctx context.Context, bg *v1alpha1.BlueGreen) (rollout.ServiceState, v1alpha1.Color, bool, error) {
	name := bg.Spec.TargetRef.Name
	both := true
	var active corev1.Service
	var preview v1alpha1.Color
	for _, n := range []string{workload.ApexName(name), workload.PreviewName(name)} {
		svc := &corev1.Service{}
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: bg.Namespace, Name: n}, svc)
		switch {
		case apierrors.IsNotFound(err):
			both = false
			continue
		case err != nil:
			return rollout.ServiceState{}, "", false, fmt.Errorf("get Service %s/%s: %w", bg.Namespace, n, err)
		}
		if n == workload.ApexName(name) {
			active = *svc
		} else {
			preview = v1alpha1.Color(svc.Spec.Selector[workload.LabelColor])
		}
	}
	if active.Name == "" {
		return rollout.ServiceState{}, preview, both, nil
	}
	return rollout.ServiceState{Exists: true, Color: v1alpha1.Color(active.Spec.Selector[workload.LabelColor])}, preview, both, nil
}

// check runs the due analysis check (pre- or post-promotion) with the new
// color as the canary and the other color as the primary.
func (r *Reconciler) check(ctx context.Context, bg *v1alpha1.BlueGreen, spec v1alpha1.BlueGreenSpec, obs *observation, now time.Time) *rollout.Check {
	a := rollout.BlueGreenAnalysis(spec, bg.Status)
	if a == nil {
		return nil
	}
	var prev *v1alpha1.JudgeStatus
	if bg.Status.Analysis != nil {
		prev = bg.Status.Analysis.Judge
	}
	fresh := newColor(bg.Status, obs)
	name := bg.Spec.TargetRef.Name
	out := r.Analysis.Run(ctx, a, analysis.Workloads{
		Namespace: bg.Namespace, Name: name,
		Canary: workload.ColorName(name, fresh), Primary: workload.ColorName(name, fresh.Other()),
	}, prev, now)
	release.ObserveCheck(r.Metrics, Kind, bg.Namespace, bg.Name, out.Results)
	return &rollout.Check{Results: out.Results, Judge: out.Judge}
}

// newColor is the color running the revision being released: the one
// whose Deployment runs status.previewRevision, else the idle one.
func newColor(st v1alpha1.BlueGreenStatus, obs *observation) v1alpha1.Color {
	switch st.PreviewRevision {
	case "":
	case obs.Blue.Revision:
		return v1alpha1.ColorBlue
	case obs.Green.Revision:
		return v1alpha1.ColorGreen
	}
	if st.ActiveColor == "" {
		return v1alpha1.ColorBlue
	}
	return st.ActiveColor.Other()
}
