package gatewayapi

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// LabelManagedBy marks an HTTPRoute Sluice generated.
const LabelManagedBy = traffic.LabelManagedBy

// ensureGenerated creates the generated HTTPRoute with all traffic to the
// primary, or brings an existing one in line with the spec while keeping the
// canary weight it carries. It writes nothing when the HTTPRoute is already
// as wanted, claims back one released on an earlier hand-back, and refuses
// one of that name someone else owns (see traffic.Claim).
func (r *Router) ensureGenerated(ctx context.Context, s traffic.Split, t target) error {
	existing, err := r.read(ctx, t.key)
	if err != nil {
		return err
	}
	weight := int32(0)
	if existing != nil {
		if err := traffic.Claim(ctx, r.Client, kind, existing, s, "trafficRouting.gatewayAPI.httpRoute.name"); err != nil {
			return err
		}
		weight = currentWeight(existing, t)
	}
	desired := generatedSpec(s, weight)
	if existing != nil && equality.Semantic.DeepEqual(desired, existing.Spec) && traffic.InPlace(existing, s) {
		return nil
	}
	u, err := traffic.GeneratedObject(schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: gatewayv1.GroupVersion.Version, Kind: kind}, t.key, s, desired)
	if err != nil {
		return err
	}
	return traffic.ApplyGenerated(ctx, r.Client, u)
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

// keepOnHandBack reports whether the generated HTTPRoute hr must outlive
// its owner (see FinalizeSplit): unless its only parent is the apex Service
// in the mesh (GAMMA), something reaches the app only through it. A Gateway
// parent is the way in for every client outside the cluster; another
// Service parent routes that Service's traffic to the app. Only for the
// apex Service alone does the plain Service carry, once the route is gone,
// exactly the traffic the handed-back route carried. The parents are those
// of the spec and those of the live route: a parent added by hand after
// Sluice's last reconcile (a Canary being deleted is not put back in line
// with its spec) is a way in too.
func keepOnHandBack(s traffic.Split, hr *gatewayv1.HTTPRoute) bool {
	if s.Routing.GatewayAPI == nil {
		return false
	}
	apex, ns := workload.ApexName(s.Target), s.Owner.GetNamespace()
	for _, p := range s.Routing.GatewayAPI.HTTPRoute.ParentRefs {
		if !isApex(parentRef(p), apex, ns) {
			return true
		}
	}
	return slices.ContainsFunc(hr.Spec.ParentRefs, func(p gatewayv1.ParentReference) bool { return !isApex(p, apex, ns) })
}

// isApex reports whether a parentRef is the apex Service of namespace ns
// (the core group, the kind Service, no namespace or ns).
func isApex(p gatewayv1.ParentReference, apex, ns string) bool {
	return p.Kind != nil && *p.Kind == "Service" && (p.Group == nil || *p.Group == "") &&
		string(p.Name) == apex && (p.Namespace == nil || string(*p.Namespace) == ns)
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

func ptr[T any](v T) *T { return &v }
