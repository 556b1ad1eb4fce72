package istio

import (
	"fmt"
	"slices"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/sluice-dev/sluice/internal/traffic"
)

// GeneratedRouteName is the name of the HTTP route in a VirtualService
// Sluice generates.
const GeneratedRouteName = "sluice"

// managedRoute locates one HTTP route Sluice manages: its index in
// spec.http and the indexes of its primary and canary destinations.
type managedRoute struct {
	name    string
	index   int
	primary int
	canary  int
}

// hosts are the destination hosts of the primary and canary Services.
type hosts struct {
	namespace string
	primary   string
	canary    string
}

// findManagedRoutes returns the routes of vs Sluice manages: those named in
// names, or, when names is empty, every HTTP route whose destinations are
// exactly the primary and canary hosts. The problems it finds come back as
// reasons, and no route is returned with them.
func findManagedRoutes(vs *istioapi.VirtualService, names []string, h hosts) ([]managedRoute, []string) {
	var routes []managedRoute
	var reasons []string
	for i, r := range vs.GetHttp() {
		named := len(names) > 0 && slices.Contains(names, r.GetName())
		if len(names) > 0 && !named {
			continue
		}
		m, ok := splitDestinations(r, h)
		if !ok {
			if named {
				reasons = append(reasons, fmt.Sprintf("HTTP route %q must have exactly two destinations, %s and %s", r.GetName(), h.primary, h.canary))
			}
			continue
		}
		m.name, m.index = r.GetName(), i
		routes = append(routes, m)
	}
	for _, name := range names {
		if !slices.ContainsFunc(vs.GetHttp(), func(r *istioapi.HTTPRoute) bool { return r.GetName() == name }) {
			reasons = append(reasons, fmt.Sprintf("no HTTP route named %q", name))
		}
	}
	if len(reasons) == 0 && len(routes) == 0 {
		reasons = append(reasons, fmt.Sprintf("no HTTP route sends traffic to exactly %s and %s", h.primary, h.canary))
	}
	if len(reasons) > 0 {
		return nil, reasons
	}
	return routes, nil
}

// splitDestinations finds the primary and canary destinations of a route
// that has exactly those two.
func splitDestinations(r *istioapi.HTTPRoute, h hosts) (managedRoute, bool) {
	m := managedRoute{primary: -1, canary: -1}
	if len(r.GetRoute()) != 2 {
		return m, false
	}
	for j, d := range r.GetRoute() {
		switch host := d.GetDestination().GetHost(); {
		case sameService(host, h.primary, h.namespace):
			m.primary = j
		case sameService(host, h.canary, h.namespace):
			m.canary = j
		}
	}
	return m, m.primary >= 0 && m.canary >= 0
}

// sameService reports whether an Istio destination host names Service svc
// of namespace ns: svc, svc.ns, svc.ns.svc or svc.ns.svc.<cluster domain>.
func sameService(host, svc, ns string) bool {
	if host == svc || host == svc+"."+ns {
		return true
	}
	return strings.HasPrefix(host, svc+"."+ns+".svc") &&
		(len(host) == len(svc+"."+ns+".svc") || host[len(svc+"."+ns+".svc")] == '.')
}

// canaryWeights reads the canary weight of each managed route.
func canaryWeights(vs *istioapi.VirtualService, routes []managedRoute) map[string]int32 {
	out := make(map[string]int32, len(routes))
	for _, m := range routes {
		out[m.name] = vs.GetHttp()[m.index].GetRoute()[m.canary].GetWeight()
	}
	return out
}

// inPlace reports whether every managed route sends weight to the canary and
// the rest to the primary.
func inPlace(vs *istioapi.VirtualService, routes []managedRoute, weight int32) bool {
	for _, m := range routes {
		dests := vs.GetHttp()[m.index].GetRoute()
		if dests[m.canary].GetWeight() != weight || dests[m.primary].GetWeight() != 100-weight {
			return false
		}
	}
	return true
}

// weightPatch sets the weights of the managed routes. It first tests the
// resourceVersion and the destination hosts it read, so that a concurrent
// edit that moved routes makes the patch fail instead of writing the wrong
// place.
func weightPatch(vs *istioapi.VirtualService, resourceVersion string, routes []managedRoute, weight int32) []traffic.PatchOp {
	ops := []traffic.PatchOp{traffic.TestVersion(resourceVersion)}
	for _, m := range routes {
		dests := vs.GetHttp()[m.index].GetRoute()
		for _, d := range []struct {
			index  int
			weight int32
		}{{m.primary, 100 - weight}, {m.canary, weight}} {
			path := fmt.Sprintf("/spec/http/%d/route/%d", m.index, d.index)
			ops = append(ops,
				traffic.PatchOp{Op: "test", Path: path + "/destination/host", Value: dests[d.index].GetDestination().GetHost()},
				traffic.PatchOp{Op: "add", Path: path + "/weight", Value: d.weight})
		}
	}
	return ops
}
