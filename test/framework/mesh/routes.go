package mesh

import (
	"context"
	"fmt"

	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// route is what the emulator read from the route object: whether it exists
// and the weighted destinations of the route it follows. A route that
// exists with no destinations (no such HTTP route, no backends) leaves
// requests unrouted, as Envoy answers them with an error.
type route struct {
	exists       bool
	namespace    string
	destinations []destination
}

// readRoute reads the VirtualService or HTTPRoute the options name. With
// neither named, or when the object does not exist, the route does not exist.
func (m *Mesh) readRoute(ctx context.Context) (route, error) {
	key := types.NamespacedName{Namespace: m.opts.Namespace}
	switch {
	case m.opts.VirtualService != "":
		key.Name = m.opts.VirtualService
		vs := &networkingv1.VirtualService{}
		if err := m.opts.Client.Get(ctx, key, vs); err != nil {
			return route{}, ignoreNotFound(fmt.Errorf("read VirtualService %s: %w", key, err))
		}
		return route{exists: true, namespace: vs.Namespace, destinations: virtualServiceDestinations(&vs.Spec, m.opts.Route)}, nil
	case m.opts.HTTPRoute != "":
		key.Name = m.opts.HTTPRoute
		hr := &gatewayv1.HTTPRoute{}
		if err := m.opts.Client.Get(ctx, key, hr); err != nil {
			return route{}, ignoreNotFound(fmt.Errorf("read HTTPRoute %s: %w", key, err))
		}
		return route{exists: true, namespace: hr.Namespace, destinations: httpRouteDestinations(hr, m.opts.Route)}, nil
	default:
		return route{}, nil
	}
}

// ignoreNotFound drops the error of a read that found no object.
func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// virtualServiceDestinations returns the weighted destinations of the HTTP
// route named name, or of the first one when name is empty. When no
// destination carries a weight they share the traffic equally, as a single
// destination without a weight takes all of it.
func virtualServiceDestinations(vs *istioapi.VirtualService, name string) []destination {
	for _, r := range vs.GetHttp() {
		if name != "" && r.GetName() != name {
			continue
		}
		var out []destination
		weighted := false
		for _, d := range r.GetRoute() {
			out = append(out, destination{host: d.GetDestination().GetHost(), weight: d.GetWeight()})
			weighted = weighted || d.GetWeight() != 0
		}
		if !weighted {
			for i := range out {
				out[i].weight = 1
			}
		}
		return out
	}
	return nil
}

// httpRouteDestinations returns the weighted Service backends of the rule
// named name, or of the first rule when name is empty. A backend's weight
// defaults to 1; a backend that is not a Service gets a host that names no
// Service, so its share goes unrouted.
func httpRouteDestinations(hr *gatewayv1.HTTPRoute, name string) []destination {
	for _, rule := range hr.Spec.Rules {
		if name != "" && (rule.Name == nil || string(*rule.Name) != name) {
			continue
		}
		var out []destination
		for _, b := range rule.BackendRefs {
			d := destination{host: string(b.Name), weight: 1}
			if b.Namespace != nil {
				d.host += "." + string(*b.Namespace)
			}
			if (b.Group != nil && *b.Group != "") || (b.Kind != nil && *b.Kind != "Service") {
				d.host = ""
			}
			if b.Weight != nil {
				d.weight = *b.Weight
			}
			out = append(out, d)
		}
		return out
	}
	return nil
}
