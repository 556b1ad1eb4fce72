package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// ServiceFor is the ClusterIP Service name in namespace ns that exposes port
// and sends traffic to the pods selector matches.
func ServiceFor(ns, name string, port v1alpha1.ServicePort, selector map[string]string) *corev1.Service {
	target := intstr.FromInt32(port.Port)
	if port.TargetPort != nil {
		target = *port.TargetPort
	}
	portName := port.PortName
	if portName == "" {
		portName = "http"
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: maps.Clone(selector),
			Ports: []corev1.ServicePort{{
				Name:       portName,
				Protocol:   corev1.ProtocolTCP,
				Port:       port.Port,
				TargetPort: target,
			}},
		},
	}
}

// CanaryServices are a Canary's three Services: the apex (selecting the
// primary pods, so that traffic outside the mesh reaches the stable
// version), the primary and the canary. primaryPods is the primary's
// matchLabels (SelectorLabels of the primary, or PrimaryPodLabels before it
// exists); canaryHash is the pod-template-hash CanaryHash found for the
// target's current ReplicaSet.
func CanaryServices(c *v1alpha1.Canary, target *appsv1.Deployment, primaryPods map[string]string, canaryHash string) ([]*corev1.Service, error) {
	base, err := baseSelector(target)
	if err != nil {
		return nil, err
	}
	name := c.Spec.TargetRef.Name
	canary := withLabels(base, map[string]string{LabelPodTemplateHash: canaryHash})
	return []*corev1.Service{
		ServiceFor(c.Namespace, ApexName(name), c.Spec.Service, primaryPods),
		ServiceFor(c.Namespace, PrimaryName(name), c.Spec.Service, primaryPods),
		ServiceFor(c.Namespace, CanaryName(name), c.Spec.Service, canary),
	}, nil
}

// BlueGreenServices are a BlueGreen's active Service, selecting the active
// color, and its preview Service, selecting the other one.
func BlueGreenServices(bg *v1alpha1.BlueGreen, target *appsv1.Deployment, active v1alpha1.Color) ([]*corev1.Service, error) {
	base, err := baseSelector(target)
	if err != nil {
		return nil, err
	}
	name := bg.Spec.TargetRef.Name
	return []*corev1.Service{
		ServiceFor(bg.Namespace, ApexName(name), bg.Spec.Service, ColorSelector(base, active)),
		ServiceFor(bg.Namespace, PreviewName(name), bg.Spec.Service, ColorSelector(base, active.Other())),
	}, nil
}

// ColorSelector is base plus the color label: the selector of a Service that
// sends traffic to one color.
func ColorSelector(base map[string]string, color v1alpha1.Color) map[string]string {
	return withLabels(base, map[string]string{LabelColor: string(color)})
}

// EnsureServices creates the Services or brings them in line with
// server-side apply, each with a controller reference to owner. A Service
// already as wanted (see serviceInPlace) is not written: a reconcile that
// changes nothing sends nothing. A Service of one of those names that owner
// does not control is a *NotOwnedError, and it and the Services after it are
// left alone.
func EnsureServices(ctx context.Context, c client.Client, owner client.Object, svcs []*corev1.Service) error {
	for _, svc := range svcs {
		key := client.ObjectKeyFromObject(svc)
		existing := &corev1.Service{}
		if err := checkOwned(ctx, c, existing, key, owner); err != nil {
			return err
		}
		if existing.UID != "" && serviceInPlace(existing, svc, owner) {
			continue
		}
		if err := apply(ctx, c, svc.DeepCopy(), owner); err != nil {
			return fmt.Errorf("apply Service %s: %w", key, err)
		}
	}
	return nil
}

// ErrNoMatchLabels means that the user's Deployment selects its pods with
// matchExpressions only. Services select on labels, so Sluice needs
// matchLabels to build theirs.
var ErrNoMatchLabels = errors.New("the target Deployment's selector has no matchLabels")

// baseSelector is the user's matchLabels, which every pod of the user's
// Deployment and of its copies carries.
func baseSelector(target *appsv1.Deployment) (map[string]string, error) {
	if target.Spec.Selector == nil || len(target.Spec.Selector.MatchLabels) == 0 {
		return nil, fmt.Errorf("target Deployment %s/%s: %w", target.Namespace, target.Name, ErrNoMatchLabels)
	}
	return maps.Clone(target.Spec.Selector.MatchLabels), nil
}
