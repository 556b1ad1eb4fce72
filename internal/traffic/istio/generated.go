package istio

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/proto"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// LabelManagedBy marks a VirtualService Sluice generated.
const LabelManagedBy = "app.kubernetes.io/managed-by"

// ensureGenerated creates the generated VirtualService with all traffic to
// the primary, or brings an existing one in line with the spec while keeping
// the canary weight it carries. It writes nothing when the VirtualService is
// already as wanted, and refuses one of that name the owner does not
// control.
func (r *Router) ensureGenerated(ctx context.Context, s traffic.Split, t target) error {
	existing := &networkingv1.VirtualService{}
	weight := int32(0)
	switch err := r.get(ctx, t.key, existing); {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return fmt.Errorf("read VirtualService %s: %w", t.key, err)
	default:
		if !traffic.ControlledBy(existing, s.Owner) {
			return &traffic.UnmanageableRouteError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name, Reasons: []string{
				"it exists and was not generated for this " + s.OwnerKind.Kind +
					"; name it in trafficRouting.istio.virtualService.name to let Sluice manage its weights",
			}}
		}
		weight = currentWeight(existing, t)
	}
	desired := generatedSpec(s, weight)
	if existing != nil && proto.Equal(desired, &existing.Spec) && existing.Labels[LabelManagedBy] == workload.FieldManager {
		return nil
	}
	u, err := generatedObject(s, t, desired)
	if err != nil {
		return fmt.Errorf("build VirtualService %s: %w", t.key, err)
	}
	err = r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(workload.FieldManager), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("apply VirtualService %s: %w", t.key, err)
	}
	return nil
}

// currentWeight is the canary weight of a generated VirtualService's route,
// or 0 (all to the primary) when the route is not in a shape to say.
func currentWeight(vs *networkingv1.VirtualService, t target) int32 {
	routes, reasons := findManagedRoutes(&vs.Spec, t.routes, t.hosts)
	if len(reasons) > 0 || len(routes) != 1 {
		return 0
	}
	return canaryWeights(&vs.Spec, routes)[routes[0].name]
}

// generatedObject is the VirtualService to apply, as an unstructured object:
// the spec is encoded with Istio's own JSON encoding.
func generatedObject(s traffic.Split, t target, spec proto.Message) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var specMap map[string]any
	if err := json.Unmarshal(data, &specMap); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	u.SetAPIVersion(networkingv1.SchemeGroupVersion.String())
	u.SetKind(kind)
	u.SetNamespace(t.key.Namespace)
	u.SetName(t.key.Name)
	u.SetLabels(map[string]string{LabelManagedBy: workload.FieldManager})
	u.SetOwnerReferences([]metav1.OwnerReference{
		*metav1.NewControllerRef(s.Owner, s.OwnerKind),
	})
	return u, nil
}
