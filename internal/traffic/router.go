package traffic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Router shifts a release object's traffic between the two Services of its
// Split: a Canary's primary and canary (CanarySplit), a BlueGreen's blue and
// green (BlueGreenSplit, which flips 0/100). Weights are the share of
// Split.Canary, 0 to 100; Split.Primary receives the rest, so the two
// always sum to 100.
type Router interface {
	// EnsureSplit makes sure the route exists: it creates or updates the
	// route Sluice generates (keeping its current weights; a new one sends
	// everything to the primary; one released on an earlier hand-back is
	// claimed back), or checks that a named, user-owned route exists and
	// has routes Sluice can manage. A missing named route is a
	// *RouteNotFoundError and nothing is created.
	EnsureSplit(ctx context.Context, s Split) error

	// SetSplit sends weight percent of the traffic to s.Canary. It reports
	// whether it changed anything; when every managed route already
	// carries the weight it makes no write.
	SetSplit(ctx context.Context, s Split, weight int32) (changed bool, err error)

	// SplitWeight reads back the share of s.Canary the route carries now,
	// as the router reports it. A step's clock starts only once this
	// equals the step's weight. A generated route released on an earlier
	// hand-back counts as missing (*RouteNotFoundError) until claimed.
	SplitWeight(ctx context.Context, s Split) (int32, error)

	// HandBackSplit runs when the release object is deleted, once the
	// user's Deployment is ready at full size and the apex Service selects
	// its pods: every managed route (of the generated route when the owner
	// controls it, of a named one always) then sends all its traffic to
	// the apex Service, so that nothing is routed to the Services Sluice
	// owns when they go. It reports whether it wrote; a missing route, or
	// a generated one the owner does not control, is nothing to do.
	HandBackSplit(ctx context.Context, s Split) (changed bool, err error)

	// FinalizeSplit runs last, after HandBackSplit and the drain, and only
	// on the route Sluice generated when the owner controls it (a
	// controller owner reference with its UID). A route that is the only
	// way in from outside the mesh (parented by a Gateway) is released to
	// the user, still sending everything to the apex Service (see Finish);
	// one the mesh alone uses is deleted, and the apex Service carries the
	// traffic. A route the user named, or one of the generated name that
	// someone else owns, is never touched. It succeeds when there is
	// nothing left to do.
	FinalizeSplit(ctx context.Context, s Split) error
}

// Router names, the keys of a Registry.
const (
	// Istio routes with an Istio VirtualService.
	Istio = "istio"
	// GatewayAPI routes with a Gateway API HTTPRoute.
	GatewayAPI = "gatewayapi"
)

// ErrUnknownRouter means that a spec asks for a router no Registry entry
// serves. It is a spec error: retrying will not help.
var ErrUnknownRouter = errors.New("unknown traffic router")

// Registry maps router names to Routers. cmd/main.go builds it; tests build
// their own.
type Registry map[string]Router

// Get returns the Router registered under name, or ErrUnknownRouter.
func (r Registry) Get(name string) (Router, error) {
	router, ok := r[name]
	if !ok || router == nil {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownRouter, name, r.known())
	}
	return router, nil
}

// For returns the Router the spec's trafficRouting asks for.
func (r Registry) For(spec v1alpha1.TrafficRouting) (Router, error) {
	name, err := Name(spec)
	if err != nil {
		return nil, err
	}
	return r.Get(name)
}

// known lists the registered names, sorted, for error messages.
func (r Registry) known() string {
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	if len(names) == 0 {
		return "none registered"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Name is the name of the router a trafficRouting spec selects. The API
// server refuses a spec with no router or with two; Name still checks, and
// returns ErrUnknownRouter for such a spec.
func Name(spec v1alpha1.TrafficRouting) (string, error) {
	switch {
	case spec.Istio != nil && spec.GatewayAPI != nil:
		return "", fmt.Errorf("%w: trafficRouting sets both istio and gatewayAPI", ErrUnknownRouter)
	case spec.Istio != nil:
		return Istio, nil
	case spec.GatewayAPI != nil:
		return GatewayAPI, nil
	default:
		return "", fmt.Errorf("%w: trafficRouting sets no router", ErrUnknownRouter)
	}
}

// RouteName is the name of the route object c's weights are written to: the
// one its spec names, or the one Sluice generates, named after the target.
func RouteName(c *v1alpha1.Canary) string { return SplitRouteName(CanarySplit(c)) }
