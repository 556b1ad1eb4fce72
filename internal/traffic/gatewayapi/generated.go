package gatewayapi

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// LabelManagedBy marks an HTTPRoute Sluice generated.
const LabelManagedBy = "app.kubernetes.io/managed-by"

// ensureGenerated creates the generated HTTPRoute with all traffic to the
// primary, or brings an existing one in line with the spec while keeping the
// canary weight it carries. It writes nothing when the HTTPRoute is already
// as wanted, and refuses one of that name the owner does not control.
func (r *Router) ensureGenerated(ctx context.Context, s traffic.Split, t target) error {
	existing, err := r.read(ctx, t.key)
	if err != nil {
		return err
	}
	weight := int32(0)
	if existing != nil {
		if !traffic.ControlledBy(existing, s.Owner) {
			return &traffic.UnmanageableRouteError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name, Reasons: []string{
				"it exists and was not generated for this " + s.OwnerKind.Kind +
					"; name it in trafficRouting.gatewayAPI.httpRoute.name to let Sluice manage its weights",
			}}
		}
		weight = currentWeight(existing, t)
	}
	desired := generatedSpec(s, weight)
	if existing != nil && equality.Semantic.DeepEqual(desired, existing.Spec) &&
		existing.Labels[LabelManagedBy] == workload.FieldManager {
		return nil
	}
	u, err := generatedObject(s, t, desired)
	if err != nil {
		return fmt.Errorf("build HTTPRoute %s: %w", t.key, err)
	}
	err = r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(workload.FieldManager), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("apply HTTPRoute %s: %w", t.key, err)
	}
	return nil
}

// currentWeight is the canary weight of a generated HTTPRoute's rule, or 0
// (all to the primary) when the rule is not in a shape to say.
func currentWeight(hr *gatewayv1.HTTPRoute, t target) int32 {
	rules, reasons := findManagedRules(&hr.Spec, nil, t.backends)
	if len(reasons) > 0 || len(rules) != 1 {
		return 0
	}
	return canaryWeights(&hr.Spec, rules)[rules[0].name]
}

// generatedSpec is the spec of the HTTPRoute Sluice generates for s, with
// canaryWeight to s.Canary. It spells out every default the API server
// would fill in (parent and backend group and kind, the match on every
// path), so that it compares equal to the stored object when nothing
// changed.
func generatedSpec(s traffic.Split, canaryWeight int32) gatewayv1.HTTPRouteSpec {
	spec := s.Routing.GatewayAPI.HTTPRoute
	port := s.Port
	out := gatewayv1.HTTPRouteSpec{}
	for _, p := range spec.ParentRefs {
		out.ParentRefs = append(out.ParentRefs, parentRef(p))
	}
	for _, h := range spec.Hostnames {
		out.Hostnames = append(out.Hostnames, gatewayv1.Hostname(h))
	}
	backend := func(svc string, weight int32) gatewayv1.HTTPBackendRef {
		ref := gatewayv1.HTTPBackendRef{}
		ref.Group, ref.Kind = ptr(gatewayv1.Group("")), ptr(gatewayv1.Kind("Service"))
		ref.Name, ref.Port, ref.Weight = gatewayv1.ObjectName(svc), &port, &weight
		return ref
	}
	out.Rules = []gatewayv1.HTTPRouteRule{{
		Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
			Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/")}}},
		BackendRefs: []gatewayv1.HTTPBackendRef{
			backend(s.Primary, 100-canaryWeight),
			backend(s.Canary, canaryWeight),
		},
	}}
	return out
}

// parentRef turns a spec's parent into a Gateway API parentRef, with the
// group its kind implies: gateway.networking.k8s.io for a Gateway, the core
// group for a Service (GAMMA).
func parentRef(p v1alpha1.GatewayParentRef) gatewayv1.ParentReference {
	k := p.Kind
	if k == "" {
		k = "Gateway"
	}
	group := gatewayv1.Group(gatewayv1.GroupName)
	if k == "Service" {
		group = ""
	}
	ref := gatewayv1.ParentReference{Group: &group, Kind: ptr(gatewayv1.Kind(k)), Name: gatewayv1.ObjectName(p.Name)}
	if p.Namespace != "" {
		ref.Namespace = ptr(gatewayv1.Namespace(p.Namespace))
	}
	if p.SectionName != "" {
		ref.SectionName = ptr(gatewayv1.SectionName(p.SectionName))
	}
	if p.Port != nil {
		ref.Port = ptr(*p.Port)
	}
	return ref
}

// generatedObject is the HTTPRoute to apply, as an unstructured object with
// only what Sluice owns: no status, no empty fields.
func generatedObject(s traffic.Split, t target, spec gatewayv1.HTTPRouteSpec) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var specMap map[string]any
	if err := json.Unmarshal(data, &specMap); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	u.SetAPIVersion(gatewayv1.GroupVersion.String())
	u.SetKind(kind)
	u.SetNamespace(t.key.Namespace)
	u.SetName(t.key.Name)
	u.SetLabels(map[string]string{LabelManagedBy: workload.FieldManager})
	u.SetOwnerReferences([]metav1.OwnerReference{
		*metav1.NewControllerRef(s.Owner, s.OwnerKind),
	})
	return u, nil
}

func ptr[T any](v T) *T { return &v }
