package release

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// Now reads clock, or the system clock when clock is nil (the reconcilers'
// Now field, set by tests).
func Now(clock func() time.Time) time.Time {
	if clock != nil {
		return clock()
	}
	return time.Now()
}

// Released is what the operator's metrics read of a release's status.
type Released struct {
	// Phase is the status's derived phase.
	Phase v1alpha1.Phase
	// Weight is the share of traffic on the new revision (0 for a
	// BlueGreen, whose traffic is all or nothing).
	Weight int32
	// Stable is the revision that serves when nothing is in flight (a
	// Canary's stableRevision, a BlueGreen's activeRevision).
	Stable string
	// Status is the block of status both kinds keep.
	Status *v1alpha1.ReleaseStatus
}

// ObserveRelease updates the operator's metrics from a status just written;
// promotions and rollbacks count on the transition from prev. m may be nil
// (metrics off).
func ObserveRelease(m *metrics.Collectors, kind, namespace, name string, prev, next Released) {
	if m == nil {
		return
	}
	m.ObserveRelease(kind, namespace, name, next.Phase, next.Weight)
	if a := next.Status.Analysis; a != nil {
		m.ObserveJudge(kind, namespace, name, a.Judge)
	}
	if prev.Status.AbortedAt == nil && next.Status.AbortedAt != nil {
		m.Rollbacks.WithLabelValues(kind, namespace, name, next.Status.AbortReason).Inc()
	}
	if prev.Stable != next.Stable && prev.Stable != "" {
		m.Promotions.WithLabelValues(kind, namespace, name).Inc()
	}
}

// ObserveCheck counts the outcomes of one analysis check.
func ObserveCheck(m *metrics.Collectors, kind, namespace, name string, results []v1alpha1.MetricResult) {
	if m == nil {
		return
	}
	for _, res := range results {
		m.AnalysisResults.WithLabelValues(kind, namespace, name, res.Name, string(res.Outcome)).Inc()
	}
}

// RunCheck runs a due analysis check of a on the workloads w for obj, the
// judge going on from the evidence kept in st (the status's analysis, nil
// before the first check), and counts its outcomes (m may be nil).
func RunCheck(ctx context.Context, r *analysis.Runner, m *metrics.Collectors, kind string, obj client.Object,
	a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus, w analysis.Workloads, now time.Time) *rollout.Check {
	var prev *v1alpha1.JudgeStatus
	if st != nil {
		prev = st.Judge
	}
	out := r.Run(ctx, a, w, prev, now)
	ObserveCheck(m, kind, obj.GetNamespace(), obj.GetName(), out.Results)
	return &rollout.Check{Results: out.Results, Judge: out.Judge}
}

// Forget drops the metrics of a release object that is gone.
func Forget(m *metrics.Collectors, kind, namespace, name string) {
	if m != nil {
		m.Forget(kind, namespace, name)
	}
}
