package service

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Selected is what a BlueGreen's two Services select, as read.
type Selected struct {
	// Active is the active Service (<name>): whether it exists and the
	// color its selector names ("" when none, or when it is missing).
	Active rollout.ServiceState
	// Preview is the color the preview Service (<name>-preview) selects,
	// "" when it names none or is missing.
	Preview v1alpha1.Color
}

// Read reads the colors the active and preview Services select. A missing
// Service is an observation, not an error.
func Read(ctx context.Context, c client.Reader, bg *v1alpha1.BlueGreen) (Selected, error) {
	name := bg.Spec.TargetRef.Name
	var out Selected
	active, err := get(ctx, c, bg.Namespace, workload.ApexName(name))
	if err != nil {
		return Selected{}, err
	}
	if active != nil {
		out.Active = rollout.ServiceState{Exists: true, Color: colorOf(active)}
	}
	preview, err := get(ctx, c, bg.Namespace, workload.PreviewName(name))
	if err != nil {
		return Selected{}, err
	}
	if preview != nil {
		out.Preview = colorOf(preview)
	}
	return out, nil
}

// get reads a Service; nil when it is missing.
func get(ctx context.Context, c client.Reader, ns, name string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	switch err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, svc); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get Service %s/%s: %w", ns, name, err)
	}
	return svc, nil
}

// colorOf is the color a Service's selector names, "" when none.
func colorOf(svc *corev1.Service) v1alpha1.Color {
	return v1alpha1.Color(svc.Spec.Selector[workload.LabelColor])
}

// CheckReady returns ErrColorNotReady, wrapped with what is missing, unless
// d (the Deployment of a color, nil when missing, named name) has every
// wanted pod ready with its current template: the one rule for sending all
// the traffic to a color, through a Service or a route, forward or back.
func CheckReady(name string, d *appsv1.Deployment) error {
	if d == nil {
		return fmt.Errorf("its Deployment %s is missing: %w", name, ErrColorNotReady)
	}
	if r := workload.ReadinessOf(d); r.Desired == 0 || r.ReadyAtRevision() < r.Desired {
		return fmt.Errorf("its Deployment %s has %w (%d/%d)", name, ErrColorNotReady, r.ReadyAtRevision(), r.Desired)
	}
	return nil
}
