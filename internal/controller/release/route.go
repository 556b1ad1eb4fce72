package release

import (
	"errors"

	"github.com/sluice-dev/sluice/internal/traffic"
)

// RouteRead is a router's read-back of a weight with the router's typed
// errors classified, in one place for both kinds: they are observations
// the state machines decide on, not failures of the reconcile. At most one
// of Missing, Inconsistent, Unmanageable and NotAccepted is set (to the
// router's words); none when the read succeeded.
type RouteRead struct {
	// Weight is the weight read (the canary's, or a BlueGreen's split);
	// with Inconsistent the highest of the weights that disagree, with
	// NotAccepted the weight the route carries.
	Weight int32
	// Missing: the route does not exist (yet, or any more).
	Missing string
	// Inconsistent: the managed routes carry different weights.
	Inconsistent string
	// Unmanageable: the router cannot manage the route (Stalled).
	Unmanageable string
	// NotAccepted: the route's implementation has not accepted, or
	// refused, the weights it carries.
	NotAccepted string
}

// ReadRoute classifies what a router's weight read returned. Only an error
// of none of the router's types comes back as an error: it is transient.
func ReadRoute(weight int32, err error) (RouteRead, error) {
	var (
		missing      *traffic.RouteNotFoundError
		inconsistent *traffic.InconsistentWeightsError
		unmanageable *traffic.UnmanageableRouteError
		notAccepted  *traffic.RouteNotAcceptedError
	)
	switch {
	case err == nil:
		return RouteRead{Weight: weight}, nil
	case errors.As(err, &missing):
		return RouteRead{Missing: missing.Error()}, nil
	case errors.As(err, &inconsistent):
		highest := int32(0)
		for _, w := range inconsistent.Weights {
			highest = max(highest, w)
		}
		return RouteRead{Weight: highest, Inconsistent: inconsistent.Error()}, nil
	case errors.As(err, &unmanageable):
		return RouteRead{Unmanageable: unmanageable.Error()}, nil
	case errors.As(err, &notAccepted):
		return RouteRead{Weight: notAccepted.CanaryWeight, NotAccepted: notAccepted.Error()}, nil
	}
	return RouteRead{}, err
}
