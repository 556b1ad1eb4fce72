package canary

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// writeStatus patches status once, and only when the decision changed it.
func (r *Reconciler) writeStatus(ctx context.Context, c *v1alpha1.Canary, d rollout.CanaryDecision) error {
	r.observeRelease(c, d.Status)
	return release.WriteStatus(ctx, r.Client, c, equality.Semantic.DeepEqual(c.Status, d.Status),
		func() { c.Status = d.Status })
}

// observeRelease updates the operator's metrics from a status about to be
// written; promotions and rollbacks count on the transition.
func (r *Reconciler) observeRelease(c *v1alpha1.Canary, next v1alpha1.CanaryStatus) {
	if r.Metrics == nil {
		return
	}
	r.Metrics.ObserveRelease(Kind, c.Namespace, c.Name, next.Phase, next.CanaryWeight)
	if next.Analysis != nil {
		r.Metrics.ObserveJudge(Kind, c.Namespace, c.Name, next.Analysis.Judge)
	}
	if c.Status.AbortedAt == nil && next.AbortedAt != nil {
		r.Metrics.Rollbacks.WithLabelValues(Kind, c.Namespace, c.Name, next.AbortReason).Inc()
	}
	if c.Status.StableRevision != next.StableRevision && c.Status.StableRevision != "" {
		r.Metrics.Promotions.WithLabelValues(Kind, c.Namespace, c.Name).Inc()
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
