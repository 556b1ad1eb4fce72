package istio

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// LabelManagedBy marks a VirtualService Sluice generated.
const LabelManagedBy = traffic.LabelManagedBy

// meshGateway is the reserved gateway name of every sidecar in the mesh;
// a VirtualService that names no gateway is bound to it alone.
const meshGateway = "mesh"

// ensureGenerated creates the generated VirtualService with all traffic to
// the primary, or brings an existing one in line with the spec while keeping
// the canary weight it carries. It writes nothing when the VirtualService is
// already as wanted, claims back one released on an earlier hand-back, and
// refuses one of that name someone else owns (see traffic.Claim).
func (r *Router) ensureGenerated(ctx context.Context, s traffic.Split, t target) error {
	existing := &networkingv1.VirtualService{}
	weight := int32(0)
	switch err := r.get(ctx, t.key, existing); {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return fmt.Errorf("read VirtualService %s: %w", t.key, err)
	default:
		if err := traffic.Claim(ctx, r.Client, kind, existing, s, "trafficRouting.istio.virtualService.name"); err != nil {
			return err
		}
		weight = currentWeight(existing, t)
	}
	desired := generatedSpec(s, weight)
	if existing != nil && proto.Equal(desired, &existing.Spec) && traffic.InPlace(existing, s) {
		return nil
	}
	u, err := traffic.GeneratedObject(networkingv1.SchemeGroupVersion.WithKind(kind), t.key, s, desired)
	if err != nil {
		return err
	}
	return traffic.ApplyGenerated(ctx, r.Client, u)
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

// keepOnHandBack reports whether the generated VirtualService vs must
// outlive its owner (see FinalizeSplit): unless it is bound to the mesh
// alone and routes only the apex Service's own host, something reaches the
// app only through it. A gateway other than "mesh" (an ingress gateway) is
// the way in for clients outside the mesh; another host (a public name, a
// ServiceEntry's) has no Service to fall back on. Only for the mesh and the
// apex host does the plain Service carry, once the VirtualService is gone,
// exactly the traffic the handed-back route carried. The gateways and hosts
// are those of the spec and those of the live VirtualService: one added by
// hand after Sluice's last reconcile (a Canary being deleted is not put
// back in line with its spec) is a way in too.
func keepOnHandBack(s traffic.Split, vs *networkingv1.VirtualService) bool {
	if s.Routing.Istio == nil {
		return false
	}
	spec := s.Routing.Istio.VirtualService
	apex, ns := workload.ApexName(s.Target), s.Owner.GetNamespace()
	gateways := slices.Concat(spec.Gateways, vs.Spec.GetGateways())
	hosts := slices.Concat(spec.Hosts, vs.Spec.GetHosts())
	return slices.ContainsFunc(gateways, func(g string) bool { return g != meshGateway }) ||
		slices.ContainsFunc(hosts, func(h string) bool { return !sameService(h, apex, ns) })
}
