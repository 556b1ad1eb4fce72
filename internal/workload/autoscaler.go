package workload

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManagerReplicasHandover is the field manager under which Sluice
// co-owns a copy's spec.replicas for a moment when an autoscaler takes the
// field over: so that leaving replicas out of the next apply keeps the value
// instead of resetting it to the default of 1.
const FieldManagerReplicasHandover = "sluice-replicas-handover"

// FindAutoscaler returns the HorizontalPodAutoscaler (autoscaling/v2) in the
// namespace that scales the Deployment name, or nil when there is none. When
// several do (a mistake Kubernetes does not refuse), the first by name wins.
func FindAutoscaler(ctx context.Context, r client.Reader, namespace, name string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	var list autoscalingv2.HorizontalPodAutoscalerList
	if err := r.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("list HorizontalPodAutoscalers in %s: %w", namespace, err)
	}
	var found *autoscalingv2.HorizontalPodAutoscaler
	for i := range list.Items {
		h := &list.Items[i]
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != name || !strings.HasPrefix(ref.APIVersion+"/", "apps/") {
			continue
		}
		if found == nil || h.Name < found.Name {
			found = h
		}
	}
	return found, nil
}

// AutoscalerCopy is the autoscaler Sluice gives a copy (the primary): the
// user's autoscaler's spec, scaling the Deployment named deployment instead.
// It carries no owner reference; EnsureAutoscaler adds it.
func AutoscalerCopy(user *autoscalingv2.HorizontalPodAutoscaler, deployment string) *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: deployment, Namespace: user.Namespace, Labels: map[string]string{LabelWorkload: deployment}},
		Spec:       *user.Spec.DeepCopy(),
	}
	h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: deployment}
	return h
}

// EnsureAutoscaler creates or updates the copy's autoscaler, owned by owner.
// An autoscaler of that name that owner does not control is a
// *NotOwnedError and is left alone.
func EnsureAutoscaler(ctx context.Context, c client.Client, h *autoscalingv2.HorizontalPodAutoscaler, owner client.Object) error {
	existing := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := checkOwned(ctx, c, existing, client.ObjectKeyFromObject(h), owner); err != nil {
		return err
	}
	if existing.UID != "" && apiequality.Semantic.DeepEqual(existing.Spec, h.Spec) &&
		existing.Labels[LabelWorkload] == h.Labels[LabelWorkload] {
		return nil
	}
	if err := apply(ctx, c, h, owner); err != nil {
		return fmt.Errorf("apply HorizontalPodAutoscaler %s/%s: %w", h.Namespace, h.Name, err)
	}
	return nil
}

// DeleteAutoscaler deletes the autoscaler key when owner controls it; a
// missing one, or one owner does not control, is left as it is.
func DeleteAutoscaler(ctx context.Context, c client.Client, key types.NamespacedName, owner client.Object) error {
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := c.Get(ctx, key, h); err != nil {
		return client.IgnoreNotFound(err)
	}
	if ref := metav1.GetControllerOf(h); ref == nil || ref.UID != owner.GetUID() {
		return nil
	}
	if err := c.Delete(ctx, h, client.Preconditions{UID: &h.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete HorizontalPodAutoscaler %s: %w", key, err)
	}
	return nil
}

// handOverReplicas makes FieldManagerReplicasHandover co-own spec.replicas
// of d, at its current value, when Sluice's own apply still owns it, so that
// an apply without replicas leaves the value to the autoscaler.
func handOverReplicas(ctx context.Context, c client.Client, d *appsv1.Deployment) error {
	if !appliedReplicas(d) {
		return nil
	}
	obj := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace},
		Spec:       appsv1.DeploymentSpec{Replicas: d.Spec.Replicas},
	}
	u, err := toApplyConfiguration(obj)
	if err != nil {
		return err
	}
	if err := c.Apply(ctx, u, client.FieldOwner(FieldManagerReplicasHandover), client.ForceOwnership); err != nil {
		return fmt.Errorf("hand spec.replicas of Deployment %s/%s over to its autoscaler: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// appliedReplicas reports whether FieldManager owns spec.replicas of d
// through an apply and no handover manager co-owns it.
func appliedReplicas(d *appsv1.Deployment) bool {
	owned, handedOver := false, false
	for _, mf := range d.ManagedFields {
		if mf.FieldsV1 == nil || !strings.Contains(mf.FieldsV1.GetRawString(), `"f:replicas"`) {
			continue
		}
		switch mf.Manager {
		case FieldManager:
			owned = owned || mf.Operation == metav1.ManagedFieldsOperationApply
		case FieldManagerReplicasHandover:
			handedOver = true
		}
	}
	return owned && !handedOver
}
