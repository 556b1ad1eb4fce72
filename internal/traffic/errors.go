package traffic

import (
	"fmt"
	"strings"
)

// RouteNotFoundError means that the route object a spec names (a
// VirtualService, an HTTPRoute) does not exist. The reconciler reports it in
// a condition; Sluice creates nothing in its place.
type RouteNotFoundError struct {
	// Kind of the missing object, for example VirtualService.
	Kind string
	// Namespace and Name of the missing object.
	Namespace, Name string
}

// Error says which object is missing.
func (e *RouteNotFoundError) Error() string {
	return fmt.Sprintf("%s %s/%s not found", e.Kind, e.Namespace, e.Name)
}

// UnmanageableRouteError means that a route object exists but Sluice cannot
// manage it: a route named in the spec is missing from it or does not send
// traffic to exactly the primary and canary Services, no route matches, or
// an object Sluice would generate already exists and belongs to someone
// else. Sluice changes nothing in it.
type UnmanageableRouteError struct {
	// Kind, Namespace and Name of the route object.
	Kind, Namespace, Name string
	// Reasons says what is wrong, one entry per problem.
	Reasons []string
}

// Error says which object and why.
func (e *UnmanageableRouteError) Error() string {
	return fmt.Sprintf("cannot manage %s %s/%s: %s", e.Kind, e.Namespace, e.Name, strings.Join(e.Reasons, "; "))
}

// InconsistentWeightsError means that the routes Sluice manages in one
// object carry different canary weights, for example after a hand edit. No
// single weight can be reported; SetWeight puts them back in line.
type InconsistentWeightsError struct {
	// Kind, Namespace and Name of the route object.
	Kind, Namespace, Name string
	// Weights is the canary weight of each managed route, by route name.
	Weights map[string]int32
}

// Error lists the weights that disagree.
func (e *InconsistentWeightsError) Error() string {
	return fmt.Sprintf("%s %s/%s: managed routes carry different canary weights %v", e.Kind, e.Namespace, e.Name, e.Weights)
}

// RouteNotAcceptedError means that the route object carries the weights
// Sluice wrote, but the implementation that serves it (a Gateway
// controller, a mesh) has not confirmed them: its status on the route does
// not say Accepted and ResolvedRefs for every parent at the route's current
// generation, or says they are False. No weight counts as read back then, so
// a step's clock does not start on weights no data plane took.
type RouteNotAcceptedError struct {
	// Kind, Namespace and Name of the route object.
	Kind, Namespace, Name string
	// CanaryWeight is the canary weight the route object carries.
	CanaryWeight int32
	// Rejected is true when the implementation refused the route (a
	// condition False at the current generation); false while it has not
	// reported on the current generation yet.
	Rejected bool
	// Reason quotes the implementation: the parent, the condition, its
	// reason and message; or says which parent has not reported.
	Reason string
}

// Error says which route and quotes the implementation.
func (e *RouteNotAcceptedError) Error() string {
	if e.Rejected {
		return fmt.Sprintf("%s %s/%s rejected: %s", e.Kind, e.Namespace, e.Name, e.Reason)
	}
	return fmt.Sprintf("%s %s/%s not accepted yet: %s", e.Kind, e.Namespace, e.Name, e.Reason)
}
