package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// AnnotationAdoptedSelector is put on a Service clients call (a Canary's
// apex, a BlueGreen's active Service) that existed before Sluice managed
// it. It records, as JSON, the selector the Service had, so that handing
// the Service back restores it.
const AnnotationAdoptedSelector = "rollouts.sluice.dev/adopted-selector"

// EnsureApexService creates the Service clients call, or brings it in line
// with svc, with a controller reference to owner. An existing Service that
// no controller owns is adopted, not refused: its selector is recorded in
// AnnotationAdoptedSelector and it is taken over under Sluice's field
// manager, with its type kept (a LoadBalancer stays one). One another
// controller owns is a *NotOwnedError. With keepSelector the selector in
// place is kept: the caller moves it only once the pods it would select are
// ready, so that adopting a Service that serves opens no gap. Nothing is
// written when the Service is already as wanted.
func EnsureApexService(ctx context.Context, c client.Client, owner client.Object, svc *corev1.Service, keepSelector bool) error {
	key := client.ObjectKeyFromObject(svc)
	desired := svc.DeepCopy()
	existing := &corev1.Service{}
	switch err := c.Get(ctx, key, existing); {
	case apierrors.IsNotFound(err):
		return applyService(ctx, c, desired, owner)
	case err != nil:
		return fmt.Errorf("read Service %s: %w", key, err)
	}
	recorded, adopted := existing.Annotations[AnnotationAdoptedSelector]
	switch ref := metav1.GetControllerOf(existing); {
	case ref == nil && !adopted:
		data, err := json.Marshal(existing.Spec.Selector)
		if err != nil {
			return fmt.Errorf("record the selector of Service %s: %w", key, err)
		}
		recorded, adopted = string(data), true
	case ref != nil && ref.UID != owner.GetUID():
		return &NotOwnedError{Kind: "Service", Namespace: key.Namespace, Name: key.Name, Owner: owner.GetName()}
	}
	if adopted {
		desired.Annotations = map[string]string{AnnotationAdoptedSelector: recorded}
	}
	desired.Spec.Type = existing.Spec.Type
	if keepSelector {
		desired.Spec.Selector = maps.Clone(existing.Spec.Selector)
	}
	if serviceInPlace(existing, desired, owner) {
		return nil
	}
	return applyService(ctx, c, desired, owner)
}

func applyService(ctx context.Context, c client.Client, svc *corev1.Service, owner client.Object) error {
	if err := apply(ctx, c, svc, owner); err != nil {
		return fmt.Errorf("apply Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// serviceInPlace reports whether existing already is what desired asks for:
// controlled by owner, the same selector, annotations and type, and every
// desired port present.
func serviceInPlace(existing, desired *corev1.Service, owner client.Object) bool {
	if ref := metav1.GetControllerOf(existing); ref == nil || ref.UID != owner.GetUID() {
		return false
	}
	if !maps.Equal(existing.Spec.Selector, desired.Spec.Selector) || existing.Spec.Type != desired.Spec.Type {
		return false
	}
	for k, v := range desired.Annotations {
		if existing.Annotations[k] != v {
			return false
		}
	}
	for _, p := range desired.Spec.Ports {
		if !slices.ContainsFunc(existing.Spec.Ports, func(e corev1.ServicePort) bool {
			return e.Name == p.Name && e.Port == p.Port && e.Protocol == p.Protocol && e.TargetPort == p.TargetPort
		}) {
			return false
		}
	}
	return true
}

// HandBackService gives a Service clients call back to its user when the
// Canary or BlueGreen owner goes: its selector becomes the one recorded when
// Sluice adopted it, or else base, the user's Deployment's matchLabels, so
// that the user's pods, and any Deployment the user runs with those labels,
// serve (see HandBackSelector for a base that is not known); owner's reference and
// the adoption record are removed, so that the garbage collector keeps it.
// A Service owner does not control is left alone; a missing one is nothing
// to do. It reports whether it wrote.
func HandBackService(ctx context.Context, c client.Client, owner client.Object, key types.NamespacedName, base map[string]string) (bool, error) {
	svc := &corev1.Service{}
	if err := c.Get(ctx, key, svc); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("read Service %s: %w", key, err)
	}
	if ref := metav1.GetControllerOf(svc); ref == nil || ref.UID != owner.GetUID() {
		return false, nil
	}
	selector := HandBackSelector(svc.Spec.Selector, base)
	if recorded, ok := svc.Annotations[AnnotationAdoptedSelector]; ok {
		var was map[string]string
		if err := json.Unmarshal([]byte(recorded), &was); err == nil && len(was) > 0 {
			selector = was
		}
		delete(svc.Annotations, AnnotationAdoptedSelector)
	}
	svc.Spec.Selector = selector
	svc.OwnerReferences = slices.DeleteFunc(svc.OwnerReferences, func(r metav1.OwnerReference) bool {
		return r.UID == owner.GetUID()
	})
	if err := c.Update(ctx, svc, client.FieldOwner(FieldManager)); err != nil {
		return false, fmt.Errorf("hand back Service %s: %w", key, err)
	}
	return true, nil
}

// BaseSelector is the user's Deployment's matchLabels, which every pod of
// that Deployment and of Sluice's copies of it carries.
func BaseSelector(target *appsv1.Deployment) (map[string]string, error) {
	return baseSelector(target)
}
