package canary

import (
	"context"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrl "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// watchAutoscalers makes the controller watch the autoscalers Sluice copies
// onto primaries (owned by a Canary) and the users' autoscalers, mapped to
// the Canaries whose target they scale: a new, changed or deleted autoscaler
// is reflected on the primary's copy at once, not at the next release.
func watchAutoscalers(c client.Reader) func(*builder.Builder) {
	return func(b *builder.Builder) {
		b.Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
			Watches(&autoscalingv2.HorizontalPodAutoscaler{}, handler.EnqueueRequestsFromMapFunc(
				func(ctx context.Context, o client.Object) []reconcile.Request {
					return canariesScaledBy(ctx, c, o.(*autoscalingv2.HorizontalPodAutoscaler))
				}))
	}
}

// canariesScaledBy returns the Canaries whose target, or primary, the
// autoscaler scales.
func canariesScaledBy(ctx context.Context, c client.Reader, h *autoscalingv2.HorizontalPodAutoscaler) []reconcile.Request {
	ref := h.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" {
		return nil
	}
	var list v1alpha1.CanaryList
	if err := c.List(ctx, &list, client.InNamespace(h.Namespace)); err != nil {
		ctrl.FromContext(ctx).Error(err, "List the Canaries of an autoscaler", "autoscaler", h.Name)
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		if t := list.Items[i].Spec.TargetRef.Name; t == ref.Name || workload.PrimaryName(t) == ref.Name {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}

// primaryAutoscaled reports whether an autoscaler owns the primary's
// replicas: the copy of the user's autoscaler on the target (user), or one
// the user put on <target>-primary itself. Why the second: a real HPA
// controller refuses to act on pods that the targets of two autoscalers
// select (AmbiguousSelector), and the primary's pods carry the target's
// labels, so the copy is refused; a single autoscaler on the primary is not.
func (r *Reconciler) primaryAutoscaled(ctx context.Context, c *v1alpha1.Canary, user *autoscalingv2.HorizontalPodAutoscaler) (bool, error) {
	if user != nil {
		return true, nil
	}
	own, err := workload.FindAutoscaler(ctx, r.Client, c.Namespace, workload.PrimaryName(c.Spec.TargetRef.Name))
	if err != nil {
		return false, err
	}
	return own != nil && !metav1.IsControlledBy(own, c), nil
}
