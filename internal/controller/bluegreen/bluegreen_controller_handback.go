package bluegreen

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

// finalize hands the workload back before the BlueGreen goes, with no gap
// (see rollout.HandBack): the user's Deployment is scaled to the active
// color's size and waited for until every pod is ready; then the active
// Service is kept (Sluice's owner reference dropped, its selector back to
// the one it had when Sluice adopted it, or to the user's pods) and, with
// trafficRouting, every managed route sends its traffic to the active
// Service; after a drain the route Sluice generated, if this BlueGreen
// controls it, is released to the user when a Gateway reaches the app
// through it and deleted when only the mesh uses it (see
// traffic.Router.FinalizeSplit; a named route is the user's and stays), and
// the finalizer is removed last, so that a restart in between repeats what
// is left. The colors and the preview and color Services,
// which Sluice created and owns, are then garbage-collected; nothing else
// is. The HandedBack condition says what the finalizer waits for.
func (r *Reconciler) finalize(ctx context.Context, bg *v1alpha1.BlueGreen) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(bg, release.Finalizer) {
		return ctrl.Result{}, nil
	}
	name := bg.Spec.TargetRef.Name
	target, err := release.HandBackTarget(ctx, r.Client, bg.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	var serving rollout.WorkloadState
	if active := bg.Status.ActiveColor; active != "" {
		if _, serving, err = release.Deployment(ctx, r.Client, bg.Namespace, workload.ColorName(name, active)); err != nil {
			return ctrl.Result{}, err
		}
	}
	d := rollout.HandBack(bg.Status.Conditions, rollout.HandBackObserved{
		Now: r.now(), Generation: bg.Generation, Target: target, Serving: serving,
	})
	st := *bg.Status.DeepCopy()
	st.Conditions = d.Conditions
	if err := release.WriteStatus(ctx, r.Client, bg, equality.Semantic.DeepEqual(bg.Status, st),
		func() { bg.Status = st }); err != nil {
		return ctrl.Result{}, err
	}
	if d.ScaleTarget != nil {
		if _, err := workload.ScaleTo(ctx, r.Client, types.NamespacedName{Namespace: bg.Namespace, Name: name}, *d.ScaleTarget); err != nil {
			return ctrl.Result{}, fmt.Errorf("hand back: %w", err)
		}
	}
	moved := false
	if d.MoveTraffic {
		if moved, err = r.moveTraffic(ctx, bg); err != nil {
			return ctrl.Result{}, err
		}
	}
	switch {
	case moved:
		// Why: the traffic moved only now: drain before the colors go.
		return ctrl.Result{RequeueAfter: rollout.HandBackDrain}, nil
	case !d.Release:
		return ctrl.Result{RequeueAfter: d.RequeueAfter}, nil
	}
	if router, known := r.knownRouter(bg); known {
		if err := router.FinalizeSplit(ctx, traffic.BlueGreenSplit(bg)); err != nil {
			return ctrl.Result{}, fmt.Errorf("finalize route: %w", err)
		}
	}
	if err := release.RemoveFinalizer(ctx, r.Client, bg); err != nil {
		return ctrl.Result{}, err
	}
	release.Forget(r.Metrics, Kind, bg.Namespace, bg.Name)
	return ctrl.Result{}, nil
}

// moveTraffic points the active Service at the target's pods and, with
// trafficRouting, every managed route at the active Service, and reports
// whether it wrote anything. An unknown router wrote nothing that could
// need handing back.
func (r *Reconciler) moveTraffic(ctx context.Context, bg *v1alpha1.BlueGreen) (bool, error) {
	key := types.NamespacedName{Namespace: bg.Namespace, Name: workload.ApexName(bg.Spec.TargetRef.Name)}
	moved, err := workload.HandBackService(ctx, r.Client, bg, key, nil)
	if err != nil {
		return false, err
	}
	router, known := r.knownRouter(bg)
	if !known {
		return moved, nil
	}
	changed, err := router.HandBackSplit(ctx, traffic.BlueGreenSplit(bg))
	if err != nil {
		return moved, fmt.Errorf("hand back route: %w", err)
	}
	return moved || changed, nil
}

// knownRouter is the BlueGreen's router, and false without trafficRouting
// or for a router this operator does not serve (which wrote nothing that
// could need handing back).
func (r *Reconciler) knownRouter(bg *v1alpha1.BlueGreen) (traffic.Router, bool) {
	router, err := r.routerFor(bg)
	return router, err == nil && router != nil
}
