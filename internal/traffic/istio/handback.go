package istio

import (
	"context"
	"fmt"
	"slices"

	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// HandBackSplit sends all the traffic of every managed route to the apex Service
// in one patch: each route that splits between the primary and the canary
// gets a single destination, the apex, on the port the primary had. A route
// already handed back is left as it is, so a replay writes nothing. A
// generated VirtualService the owner does not control, and a missing one,
// are left alone.
func (r *Router) HandBackSplit(ctx context.Context, s traffic.Split) (bool, error) {
	t := targetOf(s)
	vs, err := r.read(ctx, t.key)
	if vs == nil || err != nil {
		return false, err
	}
	if t.generated && !traffic.ControlledBy(vs, s.Owner) {
		return false, nil
	}
	ops := handBackPatch(&vs.Spec, vs.ResourceVersion, t, workload.ApexName(s.Target))
	if len(ops) <= 1 {
		return false, nil
	}
	if err := traffic.SendPatch(ctx, r.Client, vs, ops, fmt.Sprintf("hand back VirtualService %s to the apex Service", t.key)); err != nil {
		return false, err
	}
	return true, nil
}

// FinalizeSplit ends Sluice's management of the generated VirtualService
// when the owner controls it (see traffic.Finish). One bound to an ingress
// gateway is that gateway's route to the app: it is kept, handed back to
// the apex Service, and released to the user (so is one with a host other
// than the apex Service's, in the spec or added to the live one by hand, see
// keepOnHandBack). One bound to the mesh alone
// for the apex host is deleted: the sidecars then send the apex Service's
// traffic to its endpoints, the user's pods, as the handed-back route did. A named VirtualService is the user's and is
// never touched; neither is one of the generated name that Sluice refused
// to manage. The write is preconditioned on the resourceVersion read, so a
// VirtualService replaced or changed in between is left alone.
func (r *Router) FinalizeSplit(ctx context.Context, s traffic.Split) error {
	t := targetOf(s)
	if !t.generated {
		return nil
	}
	vs, err := r.read(ctx, t.key)
	if vs == nil || err != nil {
		return err
	}
	handedBack := len(handBackPatch(&vs.Spec, vs.ResourceVersion, t, workload.ApexName(s.Target))) <= 1
	return traffic.Finish(ctx, r.Client, kind, vs, s, keepOnHandBack(s, vs), handedBack)
}

// read gets a VirtualService; a missing one is nil with no error.
func (r *Router) read(ctx context.Context, key types.NamespacedName) (*networkingv1.VirtualService, error) {
	vs := &networkingv1.VirtualService{}
	if ok, err := traffic.Read(ctx, r.Client, "VirtualService", key, vs); !ok {
		return nil, err
	}
	return vs, nil
}

// handBackPatch replaces the destinations of each route Sluice manages (the
// named ones, or every route that splits between exactly the primary and
// the canary) with the apex alone. In a generated VirtualService, which
// goes or is released once handed back, a destination of another route
// (one added by hand) that names the primary or canary Service is pointed
// at the apex too: those Services go with the owner. The first operation tests the
// resourceVersion read; a patch of that one operation changes nothing.
func handBackPatch(vs *istioapi.VirtualService, resourceVersion string, t target, apex string) []traffic.PatchOp {
	ops := []traffic.PatchOp{traffic.TestVersion(resourceVersion)}
	for i, route := range vs.GetHttp() {
		m, ok := splitDestinations(route, t.hosts)
		if !ok || (len(t.routes) > 0 && !slices.Contains(t.routes, route.GetName())) {
			if t.generated {
				ops = append(ops, renameOwned(route, i, t.hosts, apex)...)
			}
			continue
		}
		dest := map[string]any{"host": apex}
		if p := route.GetRoute()[m.primary].GetDestination().GetPort(); p != nil && p.GetNumber() != 0 {
			dest["port"] = map[string]any{"number": p.GetNumber()}
		}
		ops = append(ops, traffic.PatchOp{Op: "replace", Path: fmt.Sprintf("/spec/http/%d/route", i),
			Value: []any{map[string]any{"destination": dest, "weight": 100}}})
	}
	return ops
}

// renameOwned points each destination of HTTP route i that names the
// primary or canary Service at the apex Service instead, keeping its port,
// subset and weight.
func renameOwned(route *istioapi.HTTPRoute, i int, h hosts, apex string) []traffic.PatchOp {
	var ops []traffic.PatchOp
	for j, d := range route.GetRoute() {
		host := d.GetDestination().GetHost()
		if sameService(host, h.primary, h.namespace) || sameService(host, h.canary, h.namespace) {
			ops = append(ops, traffic.PatchOp{Op: "replace", Path: fmt.Sprintf("/spec/http/%d/route/%d/destination/host", i, j), Value: apex})
		}
	}
	return ops
}
