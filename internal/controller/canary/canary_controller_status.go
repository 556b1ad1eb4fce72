package canary

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/workload"
)

// writeStatus patches status once, and only when the decision changed it.
func (r *Reconciler) writeStatus(ctx context.Context, c *v1alpha1.Canary, d rollout.CanaryDecision) error {
	r.observeRelease(c, d.Status)
	if equality.Semantic.DeepEqual(c.Status, d.Status) {
		return nil
	}
	patch := client.MergeFrom(c.DeepCopy())
	c.Status = d.Status
	if err := r.Client.Status().Patch(ctx, c, patch); err != nil {
		return fmt.Errorf("patch status of Canary %s/%s: %w", c.Namespace, c.Name, err)
	}
	return nil
}

// emit records the decision's events on the Canary.
func (r *Reconciler) emit(c *v1alpha1.Canary, events []rollout.Event) {
	if r.Recorder == nil {
		return
	}
	for _, e := range events {
		r.Recorder.Eventf(c, nil, e.Type, e.Reason, e.Reason, "%s", e.Message)
	}
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

// invalidStatus marks a spec Sluice cannot act on: Stalled with reason
// InvalidSpec, not Ready, not Reconciling. Nothing else in status changes.
func invalidStatus(cur v1alpha1.CanaryStatus, generation int64, now time.Time, msg string) v1alpha1.CanaryStatus {
	st := *cur.DeepCopy()
	st.ObservedGeneration = generation
	st.Phase = v1alpha1.PhaseInvalid
	at := metav1.NewTime(now.Truncate(time.Second))
	for _, cond := range []metav1.Condition{
		{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonInvalidSpec, Message: msg},
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonInvalidSpec, Message: msg},
		{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonInvalidSpec, Message: msg},
	} {
		cond.ObservedGeneration, cond.LastTransitionTime = generation, at
		meta.SetStatusCondition(&st.Conditions, cond)
	}
	return st
}

// finalize hands the workload back before the Canary goes: the target
// Deployment is scaled back to the primary's size (it served no traffic
// while Sluice held it at zero), and the router sends a user-owned route's
// traffic to the primary or deletes the route it generated. The objects
// Sluice owns (primary, Services) are then garbage-collected.
func (r *Reconciler) finalize(ctx context.Context, c *v1alpha1.Canary) error {
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		return nil
	}
	if err := r.handBack(ctx, c); err != nil {
		return err
	}
	patch := client.MergeFrom(c.DeepCopy())
	controllerutil.RemoveFinalizer(c, Finalizer)
	if err := r.Client.Patch(ctx, c, patch); err != nil {
		return fmt.Errorf("remove finalizer from Canary %s/%s: %w", c.Namespace, c.Name, err)
	}
	r.forget(c.Namespace, c.Name)
	return nil
}

func (r *Reconciler) handBack(ctx context.Context, c *v1alpha1.Canary) error {
	_, primary, err := r.deployment(ctx, c.Namespace, workload.PrimaryName(c.Spec.TargetRef.Name))
	if err != nil {
		return err
	}
	target, _, err := r.deployment(ctx, c.Namespace, c.Spec.TargetRef.Name)
	if err != nil {
		return err
	}
	if target != nil && primary.Exists {
		key := client.ObjectKeyFromObject(target)
		if _, err := workload.ScaleTo(ctx, r.Client, key, max(primary.DesiredReplicas, 1)); err != nil {
			return err
		}
	}
	if router, err := r.Routers.For(c.Spec.TrafficRouting); err == nil {
		if err := router.Finalize(ctx, c); err != nil {
			return fmt.Errorf("finalize route: %w", err)
		}
	}
	return nil
}
