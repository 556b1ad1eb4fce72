package release

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// HandBack is the finalizer of one release object, Canary or BlueGreen: what
// the shared hand-back (Finalize) needs of it.
type HandBack struct {
	// Client reads and writes.
	Client client.Client
	// Metrics are the operator's collectors; nil turns them off.
	Metrics *metrics.Collectors
	// Kind is the object's kind, for metrics.
	Kind string
	// Object is the release object being deleted.
	Object client.Object
	// Conditions are the conditions of Object's status, where the
	// HandedBack condition is kept.
	Conditions *[]metav1.Condition
	// Target is the name of the user's Deployment.
	Target string
	// Serving is the name of the Sluice-owned Deployment that serves now
	// (a Canary's primary, a BlueGreen's active color); "" for none.
	Serving string
	// Now is the reconcile's clock reading.
	Now time.Time
	// SelectTargetPods gives the Service clients call (<target>, the apex
	// or active Service) the target's matchLabels when it is handed back
	// with no selector recorded from before Sluice adopted it. Why for a
	// Canary: its apex selects the primary's renamed labels, which the
	// target's pods do not carry.
	SelectTargetPods bool
	// Router is the object's router, nil when it has no route this
	// operator serves (none, or an unknown one, which wrote nothing that
	// could need handing back); Split is its route.
	Router traffic.Router
	// Split is the object's route, for Router.
	Split traffic.Split
}

// Finalize hands the workload back before the object goes, with no gap (see
// rollout.HandBack): the user's Deployment is scaled to the size of what
// serves and waited for until every pod is ready; then the traffic moves to
// it; after a drain the generated route is finalized (released to the user
// when a Gateway reaches the app through it, deleted when only the mesh
// uses it: traffic.Router.FinalizeSplit) and the finalizer is removed last,
// so that a restart in between repeats what is left; what Sluice created
// and still owns is then garbage-collected. The
// HandedBack condition, written before anything acts on it, says what the
// finalizer waits for.
func Finalize(ctx context.Context, h HandBack) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(h.Object, Finalizer) {
		return ctrl.Result{}, nil
	}
	ns := h.Object.GetNamespace()
	target, err := HandBackTarget(ctx, h.Client, ns, h.Target)
	if err != nil {
		return ctrl.Result{}, err
	}
	var serving rollout.WorkloadState
	if h.Serving != "" {
		if _, serving, err = Deployment(ctx, h.Client, ns, h.Serving); err != nil {
			return ctrl.Result{}, err
		}
	}
	d := rollout.HandBack(*h.Conditions, rollout.HandBackObserved{
		Now: h.Now, Generation: h.Object.GetGeneration(), Target: target, Serving: serving,
	})
	if err := WriteStatus(ctx, h.Client, h.Object, equality.Semantic.DeepEqual(*h.Conditions, d.Conditions),
		func() { *h.Conditions = d.Conditions }); err != nil {
		return ctrl.Result{}, err
	}
	if d.ScaleTarget != nil {
		key := types.NamespacedName{Namespace: ns, Name: h.Target}
		if _, err := workload.ScaleTo(ctx, h.Client, key, *d.ScaleTarget); err != nil {
			return ctrl.Result{}, fmt.Errorf("hand back: %w", err)
		}
	}
	moved := false
	if d.MoveTraffic {
		if moved, err = h.moveTraffic(ctx); err != nil {
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
	if h.Router != nil {
		if err := h.Router.FinalizeSplit(ctx, h.Split); err != nil {
			return ctrl.Result{}, fmt.Errorf("finalize route: %w", err)
		}
	}
	if err := RemoveFinalizer(ctx, h.Client, h.Object); err != nil {
		return ctrl.Result{}, err
	}
	Forget(h.Metrics, h.Kind, ns, h.Object.GetName())
	return ctrl.Result{}, nil
}

// moveTraffic points the Service clients call at the user's Deployment
// (Sluice's owner reference dropped, its selector back to the one it had
// when Sluice adopted it, or to the target's pods) and every managed route at
// that Service, and reports whether it wrote anything.
func (h HandBack) moveTraffic(ctx context.Context) (bool, error) {
	ns := h.Object.GetNamespace()
	var base map[string]string
	if h.SelectTargetPods {
		target, _, err := Deployment(ctx, h.Client, ns, h.Target)
		if err != nil {
			return false, err
		}
		if target != nil {
			base, _ = workload.BaseSelector(target)
		}
	}
	key := types.NamespacedName{Namespace: ns, Name: workload.ApexName(h.Target)}
	moved, err := workload.HandBackService(ctx, h.Client, h.Object, key, base)
	if err != nil || h.Router == nil {
		return moved, err
	}
	changed, err := h.Router.HandBackSplit(ctx, h.Split)
	if err != nil {
		return moved, fmt.Errorf("hand back route: %w", err)
	}
	return moved || changed, nil
}
