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

// observeRelease updates the operator's metrics from a status just written;
// promotions and rollbacks count on the transition from prev.
func (r *Reconciler) observeRelease(namespace, name string, prev, next v1alpha1.CanaryStatus) {
	if r.Metrics == nil {
		return
	}
	r.Metrics.ObserveRelease(Kind, namespace, name, next.Phase, next.CanaryWeight)
	if next.Analysis != nil {
		r.Metrics.ObserveJudge(Kind, namespace, name, next.Analysis.Judge)
	}
	if prev.AbortedAt == nil && next.AbortedAt != nil {
		r.Metrics.Rollbacks.WithLabelValues(Kind, namespace, name, next.AbortReason).Inc()
	}
	if prev.StableRevision != next.StableRevision && prev.StableRevision != "" {
		r.Metrics.Promotions.WithLabelValues(Kind, namespace, name).Inc()
	}
}

// observeCheck counts a check's outcomes.
func (r *Reconciler) observeCheck(c *v1alpha1.Canary, out analysis.CheckResult) {
	if r.Metrics == nil {
		return
	}
	for _, res := range out.Results {
		r.Metrics.AnalysisResults.WithLabelValues(Kind, c.Namespace, c.Name, res.Name, string(res.Outcome)).Inc()
	}
}

func (r *Reconciler) forget(namespace, name string) {
	if r.Metrics != nil {
		r.Metrics.Forget(Kind, namespace, name)
	}
}
