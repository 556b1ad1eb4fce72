package service

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// ErrColorNotReady means that the color a flip would send all the traffic
// to is not ready at full size. The flip is refused: a Service must never
// point at a color that cannot take all of it.
var ErrColorNotReady = errors.New("not every pod ready")

// Switch points the active Service at color and the preview Service at the
// other color. It reports whether the active Service flipped; when it
// already selected color it is not written. Each Service that changes is
// written once, with a merge patch of its selector's color that fails if
// the Service changed since it was read. Before flipping it checks that
// every wanted pod of the color's Deployment is ready with its current
// template (forward and back alike), and refuses with ErrColorNotReady
// otherwise.
func Switch(ctx context.Context, c client.Client, bg *v1alpha1.BlueGreen, color v1alpha1.Color) (bool, error) {
	name := bg.Spec.TargetRef.Name
	current, err := ActiveColor(ctx, c, bg)
	if err != nil {
		return false, err
	}
	if current != color {
		if err := checkReady(ctx, c, bg, color); err != nil {
			return false, err
		}
	}
	flipped, err := point(ctx, c, bg, workload.ApexName(name), color)
	if err != nil {
		return false, fmt.Errorf("switch active Service to %s: %w", color, err)
	}
	if _, err := point(ctx, c, bg, workload.PreviewName(name), color.Other()); err != nil {
		return flipped, fmt.Errorf("point preview Service at %s: %w", color.Other(), err)
	}
	return flipped, nil
}

// ActiveColor reads the color the active Service selects now, as the API
// server reports it. It is empty when the selector names none.
func ActiveColor(ctx context.Context, c client.Reader, bg *v1alpha1.BlueGreen) (v1alpha1.Color, error) {
	svc := &corev1.Service{}
	key := types.NamespacedName{Namespace: bg.Namespace, Name: workload.ApexName(bg.Spec.TargetRef.Name)}
	if err := c.Get(ctx, key, svc); err != nil {
		return "", fmt.Errorf("read active Service %s: %w", key, err)
	}
	return colorOf(svc), nil
}

// checkReady returns ErrColorNotReady, wrapped, unless every wanted pod of
// the Deployment of color is ready with its current template (see
// CheckReady).
func checkReady(ctx context.Context, c client.Reader, bg *v1alpha1.BlueGreen, color v1alpha1.Color) error {
	d := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: bg.Namespace, Name: workload.ColorName(bg.Spec.TargetRef.Name, color)}
	if err := c.Get(ctx, key, d); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("switch active Service to %s: read Deployment %s: %w", color, key, err)
		}
		d = nil
	}
	if err := CheckReady(key.String(), d); err != nil {
		return fmt.Errorf("switch active Service to %s: %w", color, err)
	}
	return nil
}

// point sets the color in the selector of Service name, and reports whether
// it wrote.
func point(ctx context.Context, c client.Client, bg *v1alpha1.BlueGreen, name string, color v1alpha1.Color) (bool, error) {
	svc := &corev1.Service{}
	key := types.NamespacedName{Namespace: bg.Namespace, Name: name}
	if err := c.Get(ctx, key, svc); err != nil {
		return false, fmt.Errorf("read Service %s: %w", key, err)
	}
	if ref := metav1.GetControllerOf(svc); ref == nil || ref.UID != bg.UID {
		return false, &workload.NotOwnedError{Kind: "Service", Namespace: key.Namespace, Name: key.Name, Owner: bg.Name}
	}
	if svc.Spec.Selector[workload.LabelColor] == string(color) {
		return false, nil
	}
	patch := fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q},"spec":{"selector":{%q:%q}}}`,
		svc.ResourceVersion, workload.LabelColor, color)
	err := c.Patch(ctx, svc, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(workload.FieldManager))
	if err != nil {
		return false, fmt.Errorf("patch Service %s: %w", key, err)
	}
	return true, nil
}
