package canary

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// finalize hands the workload back before the Canary goes, with no gap (see
// release.Finalize): the target Deployment is scaled to the primary's size
// and waited for until every pod is ready; then the apex Service is kept
// (Sluice's owner reference dropped, its selector moved to the target's
// pods, or back to the one it had when Sluice adopted it) and every managed
// route sends its traffic to the apex; after a drain the generated route,
// if this Canary controls it, is released to the user when a Gateway
// reaches the app through it (so that the Gateway keeps its route) and
// deleted when only the mesh uses it (see traffic.Router.FinalizeSplit),
// and the finalizer is removed last, so that a restart in between repeats
// what is left. The objects Sluice created and still owns (primary, primary
// and canary Services) are then garbage-collected.
func (r *Reconciler) finalize(ctx context.Context, c *v1alpha1.Canary) (ctrl.Result, error) {
	h := release.HandBack{
		Client: r.Client, Metrics: r.Metrics, Kind: Kind, Object: c, Conditions: &c.Status.Conditions,
		Target: c.Spec.TargetRef.Name, Serving: workload.PrimaryName(c.Spec.TargetRef.Name), Now: r.now(),
		SelectTargetPods: true, Split: traffic.CanarySplit(c),
	}
	if router, err := r.Routers.For(c.Spec.TrafficRouting); err == nil {
		// Why only a known router: an unknown one wrote nothing that could
		// need handing back.
		h.Router = router
	}
	return release.Finalize(ctx, h)
}
