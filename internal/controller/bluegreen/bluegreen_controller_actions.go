package bluegreen

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Execute re-asserts the Services, carries out the decision's actions (see
// release.Execute) and, with trafficRouting, points the Services where the
// route was read back sending the traffic.
func (p *pass) Execute(ctx context.Context) error {
	r, bg, router, obs, d := p.r, p.bg, p.router, p.obs, p.d
	if err := r.ensureServices(ctx, bg, obs, d.Status); err != nil {
		return err
	}
	name := bg.Spec.TargetRef.Name
	err := release.Execute(ctx, d.Actions, func(a rollout.BlueGreenAction) error {
		switch a := a.(type) {
		case rollout.EnsureColor:
			return r.ensureColor(ctx, bg, obs, a)
		case rollout.ScaleColor:
			return r.scale(ctx, bg.Namespace, workload.ColorName(name, a.Color), a.Replicas, obs.colors[a.Color] != nil)
		case rollout.ScaleTarget:
			return r.scale(ctx, bg.Namespace, name, a.Replicas, obs.target != nil)
		case rollout.SwitchService:
			if router != nil {
				return r.flipRoute(ctx, bg, router, obs, a.Color)
			}
			_, err := service.Switch(ctx, r.Client, bg, a.Color)
			return err
		}
		return fmt.Errorf("unknown action %T", a)
	}, "revision", d.Status.PreviewRevision)
	if err != nil || router == nil {
		return err
	}
	return r.followRoute(ctx, bg, obs)
}

// ensureServices re-asserts the active and preview Services (and, with
// trafficRouting, one Service per color) on every reconcile, each
// selecting what rollout.BlueGreenServiceSelectors decides.
func (r *Reconciler) ensureServices(ctx context.Context, bg *v1alpha1.BlueGreen, obs *observation, st v1alpha1.BlueGreenStatus) error {
	if obs.target == nil {
		return nil
	}
	base, err := workload.BaseSelector(obs.target)
	if err != nil {
		return err
	}
	sel := rollout.BlueGreenServiceSelectors(st, obs.ActiveService, obs.services.Active.Exists)
	name := bg.Spec.TargetRef.Name
	apex := workload.ServiceFor(bg.Namespace, workload.ApexName(name), bg.Spec.Service, base)
	if sel.Active != "" {
		apex.Spec.Selector = workload.ColorSelector(base, sel.Active)
	}
	if err := workload.EnsureApexService(ctx, r.Client, bg, apex, sel.KeepActive); err != nil {
		return err
	}
	preview := workload.ServiceFor(bg.Namespace, workload.PreviewName(name), bg.Spec.Service,
		workload.ColorSelector(base, sel.Preview))
	svcs := []*corev1.Service{preview}
	if bg.Spec.TrafficRouting != nil {
		// Why: the route's backends, one per color; the route, not their
		// selectors, decides which one serves.
		svcs = append(svcs, colorServices(bg, base)...)
	}
	return workload.EnsureServices(ctx, r.Client, bg, svcs)
}

// ensureColor makes a color's Deployment run revision: the target's
// template when the target is at it, else the color's own template.
func (r *Reconciler) ensureColor(ctx context.Context, bg *v1alpha1.BlueGreen, obs *observation, a rollout.EnsureColor) error {
	if obs.target == nil {
		return errors.New("the target Deployment is missing")
	}
	cp := workload.ColorCopy(bg, obs.target, a.Color, max(a.Replicas, 0))
	if workload.Revision(&obs.target.Spec.Template) != a.Revision {
		own := obs.colors[a.Color]
		if own == nil || workload.Revision(&own.Spec.Template) != a.Revision {
			return fmt.Errorf("no template of revision %s: the target has moved on and %s does not run it", a.Revision, cp.Name)
		}
		cp.Template = own.Spec.Template
	}
	return workload.EnsureDeployment(ctx, r.Client, cp)
}

func (r *Reconciler) scale(ctx context.Context, ns, name string, replicas int32, exists bool) error {
	if !exists {
		return nil
	}
	_, err := workload.ScaleTo(ctx, r.Client, types.NamespacedName{Namespace: ns, Name: name}, replicas)
	return err
}
