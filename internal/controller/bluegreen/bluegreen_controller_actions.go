package bluegreen

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

// execute carries out the decision's actions in order, each an idempotent
// write, and stops at the first error.
func (r *Reconciler) execute(ctx context.Context, bg *v1alpha1.BlueGreen, router traffic.Router, obs *observation, d rollout.BlueGreenDecision) error {
	log := ctrllog.FromContext(ctx)
	if err := r.ensureServices(ctx, bg, obs, d.Status); err != nil {
		return err
	}
	name := bg.Spec.TargetRef.Name
	for _, a := range d.Actions {
		log.V(1).Info("Carrying out action", "action", a.String(), "revision", d.Status.PreviewRevision)
		var err error
		switch a := a.(type) {
		case rollout.EnsureColor:
			err = r.ensureColor(ctx, bg, obs, a)
		case rollout.ScaleColor:
			err = r.scale(ctx, bg.Namespace, workload.ColorName(name, a.Color), a.Replicas, obs.colors[a.Color] != nil)
		case rollout.ScaleTarget:
			err = r.scale(ctx, bg.Namespace, name, a.Replicas, obs.target != nil)
		case rollout.SwitchService:
			if router != nil {
				err = r.flipRoute(ctx, bg, router, obs, a.Color)
				break
			}
			_, err = service.Switch(ctx, r.Client, bg, a.Color)
		default:
			err = fmt.Errorf("unknown action %T", a)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	if router != nil {
		return r.followRoute(ctx, bg, obs)
	}
	return nil
}

// ensureServices observes and re-asserts the active and preview Services on
// every reconcile, not only at a flip. The active Service keeps the color
// it selects (only a flip, decided by the state machine, changes it); an
// existing Service of that name that no controller owns (the user's own) is
// adopted and keeps its selector until the first flip, so onboarding opens
// no gap; a new one selects the user's pods until then. The preview Service
// always selects the other color than the active one: a flip cut short
// between its two writes, which left both on the live color, is repaired
// here before a next release's tests run against the preview.
func (r *Reconciler) ensureServices(ctx context.Context, bg *v1alpha1.BlueGreen, obs *observation, st v1alpha1.BlueGreenStatus) error {
	if obs.target == nil {
		return nil
	}
	base, err := workload.BaseSelector(obs.target)
	if err != nil {
		return err
	}
	name := bg.Spec.TargetRef.Name
	live := obs.ActiveService.Color
	apex := workload.ServiceFor(bg.Namespace, workload.ApexName(name), bg.Spec.Service, base)
	if live != "" {
		apex.Spec.Selector = workload.ColorSelector(base, live)
	}
	if err := workload.EnsureApexService(ctx, r.Client, bg, apex, obs.apex.Exists); err != nil {
		return err
	}
	if live == "" {
		live = cmp.Or(st.ActiveColor, v1alpha1.ColorBlue)
	}
	preview := workload.ServiceFor(bg.Namespace, workload.PreviewName(name), bg.Spec.Service,
		workload.ColorSelector(base, live.Other()))
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
