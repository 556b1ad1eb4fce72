package bluegreen

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// finalize hands the workload back before the BlueGreen goes, with no gap
// (see release.Finalize): the user's Deployment is scaled to the active
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
// is.
func (r *Reconciler) finalize(ctx context.Context, bg *v1alpha1.BlueGreen) (ctrl.Result, error) {
	h := release.HandBack{
		Client: r.Client, Metrics: r.Metrics, Kind: Kind, Object: bg, Conditions: &bg.Status.Conditions,
		Target: bg.Spec.TargetRef.Name, Now: r.now(), Split: traffic.BlueGreenSplit(bg),
	}
	if active := bg.Status.ActiveColor; active != "" {
		h.Serving = workload.ColorName(bg.Spec.TargetRef.Name, active)
	}
	if router, err := r.routerFor(bg); err == nil && router != nil {
		// Why only a known router: without trafficRouting, or with an
		// unknown router, nothing was written that could need handing back.
		h.Router = router
	}
	return release.Finalize(ctx, h)
}
