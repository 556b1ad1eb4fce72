package canary

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// decide runs Next and persists its status before anything acts on it,
// deciding again on a fresh read when the write meets a conflict (see
// release.Persist). The commands are read again with the object.
// spec is the Canary's spec with its analysis resolved; pins are kept in
// status for the revision the decision leaves in flight.
func (r *Reconciler) decide(ctx context.Context, c *v1alpha1.Canary, spec v1alpha1.CanarySpec,
	pins []v1alpha1.PinnedAnalysis, obs *observation) (rollout.CanaryDecision, error) {
	var d rollout.CanaryDecision
	var prev v1alpha1.CanaryStatus
	err := release.Persist(ctx, r.Client, r.APIReader, c, func() (bool, func()) {
		obs.Commands = release.PendingCommands(c)
		prev, d = *c.Status.DeepCopy(), rollout.Next(spec, c.Status, obs.CanaryObserved)
		d.Status.PinnedAnalyses = analysis.PinsAt(pins, d.Status.CanaryRevision)
		return equality.Semantic.DeepEqual(c.Status, d.Status), func() { c.Status = d.Status }
	})
	if err == nil {
		r.observeRelease(c.Namespace, c.Name, prev, d.Status)
	}
	return d, err
}

// writeStatus patches status once, and only when it changed.
func (r *Reconciler) writeStatus(ctx context.Context, c *v1alpha1.Canary, d rollout.CanaryDecision) error {
	prev := *c.Status.DeepCopy()
	err := release.WriteStatus(ctx, r.Client, c, equality.Semantic.DeepEqual(c.Status, d.Status),
		func() { c.Status = d.Status })
	if err == nil {
		r.observeRelease(c.Namespace, c.Name, prev, d.Status)
	}
	return err
}

// observeRelease updates the operator's metrics from a status just written
// (see release.ObserveRelease).
func (r *Reconciler) observeRelease(namespace, name string, prev, next v1alpha1.CanaryStatus) {
	released := func(st *v1alpha1.CanaryStatus) release.Released {
		return release.Released{Phase: st.Phase, Weight: st.CanaryWeight, Stable: st.StableRevision, Status: &st.ReleaseStatus}
	}
	release.ObserveRelease(r.Metrics, Kind, namespace, name, released(&prev), released(&next))
}
