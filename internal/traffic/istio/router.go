package istio

import (
	"context"
	"fmt"

	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

const kind = "VirtualService"

// Router splits a release object's traffic (a traffic.Split) with an Istio
// VirtualService.
type Router struct {
	// Client reads and writes VirtualServices. Reads through the manager's
	// cache may lag a write; SplitWeight then reports the old weight, and the
	// step's clock starts one reconcile later, never too early.
	Client client.Client
	// Reader, when set, reads straight from the API server a
	// VirtualService the cache does not hold (yet): one just created is
	// then found by the next read of the same reconcile, instead of being
	// applied a second time or reported missing. At rest every
	// VirtualService is in the cache and Reader is never used.
	Reader client.Reader
}

var _ traffic.Router = (*Router)(nil)

// New returns a Router on c.
func New(c client.Client) *Router { return &Router{Client: c} }

// NewWithReader returns a Router on c that falls back to reader for a
// VirtualService the cache does not hold.
func NewWithReader(c client.Client, reader client.Reader) *Router {
	return &Router{Client: c, Reader: reader}
}

// get reads the VirtualService key through the cache and, when the cache
// does not hold it, through Reader.
func (r *Router) get(ctx context.Context, key types.NamespacedName, vs *networkingv1.VirtualService) error {
	err := r.Client.Get(ctx, key, vs)
	if apierrors.IsNotFound(err) && r.Reader != nil {
		return r.Reader.Get(ctx, key, vs)
	}
	return err
}

// target is what a Split says about its VirtualService.
type target struct {
	key       types.NamespacedName
	generated bool
	routes    []string
	hosts     hosts
}

// targetOf reads the VirtualService's name and the routes to manage from a
// Split.
func targetOf(s traffic.Split) target {
	var spec v1alpha1.IstioVirtualService
	if s.Routing.Istio != nil {
		spec = s.Routing.Istio.VirtualService
	}
	t := target{
		key:    types.NamespacedName{Namespace: s.Owner.GetNamespace(), Name: spec.Name},
		routes: spec.Routes,
		hosts:  hosts{namespace: s.Owner.GetNamespace(), primary: s.Primary, canary: s.Canary},
	}
	if spec.Name == "" {
		t.key.Name, t.generated, t.routes = s.Target, true, []string{GeneratedRouteName}
	}
	return t
}

// EnsureSplit creates or updates the generated VirtualService, keeping the
// weights it carries, or checks that a named one exists and has routes
// Sluice can manage.
func (r *Router) EnsureSplit(ctx context.Context, s traffic.Split) error {
	t := targetOf(s)
	if !t.generated {
		_, _, err := r.managed(ctx, t)
		return err
	}
	return r.ensureGenerated(ctx, s, t)
}

// SetSplit writes weight to the canary and 100-weight to the primary in
// every managed route, in one patch; it writes nothing when they are already
// in place. A generated VirtualService is ensured first, so it is created
// when missing.
func (r *Router) SetSplit(ctx context.Context, s traffic.Split, weight int32) (bool, error) {
	if weight < 0 || weight > 100 {
		return false, fmt.Errorf("set weight on VirtualService: weight %d is outside 0-100", weight)
	}
	t := targetOf(s)
	if t.generated {
		if err := r.ensureGenerated(ctx, s, t); err != nil {
			return false, err
		}
	}
	vs, routes, err := r.managed(ctx, t)
	if err != nil {
		return false, err
	}
	if inPlace(&vs.Spec, routes, weight) {
		return false, nil
	}
	ops := weightPatch(&vs.Spec, vs.ResourceVersion, routes, weight)
	if err := traffic.SendPatch(ctx, r.Client, vs, ops, fmt.Sprintf("set weight %d on VirtualService %s", weight, t.key)); err != nil {
		return false, err
	}
	return true, nil
}

// SplitWeight reads the canary weight of the managed routes. Routes that
// disagree are a *traffic.InconsistentWeightsError.
func (r *Router) SplitWeight(ctx context.Context, s traffic.Split) (int32, error) {
	t := targetOf(s)
	vs, routes, err := r.managed(ctx, t)
	if err != nil {
		return 0, err
	}
	weights := canaryWeights(&vs.Spec, routes)
	first := weights[routes[0].name]
	for _, w := range weights {
		if w != first {
			return 0, &traffic.InconsistentWeightsError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name, Weights: weights}
		}
	}
	return first, nil
}

// managed reads the VirtualService and finds the routes Sluice manages in it.
func (r *Router) managed(ctx context.Context, t target) (*networkingv1.VirtualService, []managedRoute, error) {
	vs := &networkingv1.VirtualService{}
	err := r.get(ctx, t.key, vs)
	if apierrors.IsNotFound(err) || (err == nil && t.generated && traffic.Released(vs)) {
		// Why a released route counts as missing: it is the user's until
		// EnsureSplit claims it back, as a missing one is created.
		return nil, nil, &traffic.RouteNotFoundError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read VirtualService %s: %w", t.key, err)
	}
	routes, reasons := findManagedRoutes(&vs.Spec, t.routes, t.hosts)
	if len(reasons) > 0 {
		return nil, nil, &traffic.UnmanageableRouteError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name, Reasons: reasons}
	}
	return vs, routes, nil
}

// generatedSpec is the spec of the VirtualService Sluice generates for s,
// with canaryWeight to s.Canary.
func generatedSpec(s traffic.Split, canaryWeight int32) *istioapi.VirtualService {
	var spec v1alpha1.IstioVirtualService
	if s.Routing.Istio != nil {
		spec = s.Routing.Istio.VirtualService
	}
	vsHosts := spec.Hosts
	if len(vsHosts) == 0 {
		vsHosts = []string{workload.ApexName(s.Target)}
	}
	port := &istioapi.PortSelector{Number: uint32(s.Port)}
	return &istioapi.VirtualService{
		Hosts:    append([]string(nil), vsHosts...),
		Gateways: append([]string(nil), spec.Gateways...),
		Http: []*istioapi.HTTPRoute{{
			Name: GeneratedRouteName,
			Route: []*istioapi.HTTPRouteDestination{
				{Destination: &istioapi.Destination{Host: s.Primary, Port: port}, Weight: 100 - canaryWeight},
				{Destination: &istioapi.Destination{Host: s.Canary, Port: port}, Weight: canaryWeight},
			},
		}},
	}
}
