package canary

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// finalize hands the workload back before the Canary goes, with no gap (see
// rollout.HandBack): the target Deployment is scaled to the primary's size
// and waited for until every pod is ready; then the apex Service is kept
// (Sluice's owner reference dropped, its selector moved to the target's
// pods, or back to the one it had when Sluice adopted it) and every managed
// route sends its traffic to the apex; after a drain the generated route,
// if this Canary controls it, is released to the user when a Gateway
// reaches the app through it (so that the Gateway keeps its route) and
// deleted when only the mesh uses it (see traffic.Router.FinalizeSplit),
// and the finalizer is removed last, so that a restart in between repeats
// what is left. The
// objects Sluice created and still owns (primary, primary and canary
// Services) are then garbage-collected. The HandedBack condition says what
// the finalizer waits for.
func (r *Reconciler) finalize(ctx context.Context, c *v1alpha1.Canary) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(c, release.Finalizer) {
		return ctrl.Result{}, nil
	}
	name := c.Spec.TargetRef.Name
	targetState, err := release.HandBackTarget(ctx, r.Client, c.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	_, primary, err := release.Deployment(ctx, r.Client, c.Namespace, workload.PrimaryName(name))
	if err != nil {
		return ctrl.Result{}, err
	}
	d := rollout.HandBack(c.Status.Conditions, rollout.HandBackObserved{
		Now: r.now(), Generation: c.Generation, Target: targetState, Serving: primary,
	})
	st := *c.Status.DeepCopy()
	st.Conditions = d.Conditions
	if err := release.WriteStatus(ctx, r.Client, c, equality.Semantic.DeepEqual(c.Status, st),
		func() { c.Status = st }); err != nil {
		return ctrl.Result{}, err
	}
	if d.ScaleTarget != nil {
		key := types.NamespacedName{Namespace: c.Namespace, Name: name}
		if _, err := workload.ScaleTo(ctx, r.Client, key, *d.ScaleTarget); err != nil {
			return ctrl.Result{}, fmt.Errorf("hand back: %w", err)
		}
	}
	moved := false
	if d.MoveTraffic {
		if moved, err = r.moveTraffic(ctx, c); err != nil {
			return ctrl.Result{}, err
		}
	}
	switch {
	case moved:
		// Why: the traffic moved only now (a write lost before, or replaced
		// by someone): drain again before anything goes.
		return ctrl.Result{RequeueAfter: rollout.HandBackDrain}, nil
	case !d.Release:
		return ctrl.Result{RequeueAfter: d.RequeueAfter}, nil
	}
	if router, err := r.Routers.For(c.Spec.TrafficRouting); err == nil {
		if err := router.FinalizeSplit(ctx, traffic.CanarySplit(c)); err != nil {
			return ctrl.Result{}, fmt.Errorf("finalize route: %w", err)
		}
	}
	if err := release.RemoveFinalizer(ctx, r.Client, c); err != nil {
		return ctrl.Result{}, err
	}
	release.Forget(r.Metrics, Kind, c.Namespace, c.Name)
	return ctrl.Result{}, nil
}

// router is the Canary's router, and false for a router this operator does
// not serve.
func (r *Reconciler) router(c *v1alpha1.Canary) (traffic.Router, bool) {
	router, err := r.Routers.For(c.Spec.TrafficRouting)
	return router, err == nil
}

// moveTraffic points the apex Service at the target's pods and every
// managed route at the apex, and reports whether it wrote anything.
func (r *Reconciler) moveTraffic(ctx context.Context, c *v1alpha1.Canary) (bool, error) {
	key := types.NamespacedName{Namespace: c.Namespace, Name: workload.ApexName(c.Spec.TargetRef.Name)}
	var base map[string]string
	if target, _, err := release.Deployment(ctx, r.Client, c.Namespace, c.Spec.TargetRef.Name); err != nil {
		return false, err
	} else if target != nil {
		// Why not from the apex's selector: the primary's values are
		// renamed; the target's own matchLabels select its pods.
		base, _ = workload.BaseSelector(target)
	}
	moved, err := workload.HandBackService(ctx, r.Client, c, key, base)
	if err != nil {
		return false, err
	}
	router, known := r.router(c)
	if !known {
		// Why: an unknown router wrote nothing that could need handing back.
		return moved, nil
	}
	changed, err := router.HandBackSplit(ctx, traffic.CanarySplit(c))
	if err != nil {
		return moved, fmt.Errorf("hand back route: %w", err)
	}
	return moved || changed, nil
}
