package canary

import (
	"context"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// decide runs Next and persists its status before anything acts on it,
// deciding again on a fresh read when the write meets a conflict (see
// release.PersistDecision). The commands are read again with the object.
// spec is the Canary's spec with its analysis resolved; pins are kept in
// status for the revision the decision leaves in flight.
func (r *Reconciler) decide(ctx context.Context, c *v1alpha1.Canary, spec v1alpha1.CanarySpec,
	pins []v1alpha1.PinnedAnalysis, obs *observation) (rollout.CanaryDecision, error) {
	var d rollout.CanaryDecision
	err := release.PersistDecision(ctx, r.Client, r.APIReader, c, &c.Status, func() v1alpha1.CanaryStatus {
		obs.Commands = release.PendingCommands(c)
		d = rollout.Next(spec, c.Status, obs.CanaryObserved)
		d.Status.PinnedAnalyses = analysis.PinsAt(pins, d.Status.CanaryRevision)
		return d.Status
	}, r.observeRelease(c))
	return d, err
}

// observeRelease updates the operator's metrics from a status of c just
// written (see release.ObserveRelease).
func (r *Reconciler) observeRelease(c *v1alpha1.Canary) func(prev, next v1alpha1.CanaryStatus) {
	released := func(st *v1alpha1.CanaryStatus) release.Released {
		return release.Released{Phase: st.Phase, Weight: st.CanaryWeight, Stable: st.StableRevision, Status: &st.ReleaseStatus}
	}
	return func(prev, next v1alpha1.CanaryStatus) {
		release.ObserveRelease(r.Metrics, Kind, c.Namespace, c.Name, released(&prev), released(&next))
	}
}
