package gatewayapi

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
)

const kind = "HTTPRoute"

// Router splits a release object's traffic (a traffic.Split) with a Gateway
// API HTTPRoute.
type Router struct {
	// Client reads and writes HTTPRoutes. Reads through the manager's cache
	// may lag a write; SplitWeight then reports the old weight (or a route not
	// accepted yet), and the step's clock starts one reconcile later, never
	// too early.
	Client client.Client
}

var _ traffic.Router = (*Router)(nil)

// New returns a Router on c.
func New(c client.Client) *Router { return &Router{Client: c} }

// target is what a Split says about its HTTPRoute.
type target struct {
	key       types.NamespacedName
	generated bool
	rules     []string
	backends  backends
}

// targetOf reads the HTTPRoute's name and the rules to manage from a Split.
func targetOf(s traffic.Split) target {
	var spec v1alpha1.GatewayAPIHTTPRoute
	if s.Routing.GatewayAPI != nil {
		spec = s.Routing.GatewayAPI.HTTPRoute
	}
	ns := s.Owner.GetNamespace()
	t := target{
		key:      types.NamespacedName{Namespace: ns, Name: spec.Name},
		rules:    spec.Rules,
		backends: backends{namespace: ns, primary: s.Primary, canary: s.Canary},
	}
	if spec.Name == "" {
		t.key.Name, t.generated, t.rules = s.Target, true, nil
	}
	return t
}

// EnsureSplit creates or updates the generated HTTPRoute, keeping the
// weights it carries, or checks that a named one exists and has rules
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
// every managed rule, in one patch; it writes nothing when they are already
// in place. A generated HTTPRoute is ensured first, so it is created when
// missing.
func (r *Router) SetSplit(ctx context.Context, s traffic.Split, weight int32) (bool, error) {
	if weight < 0 || weight > 100 {
		return false, fmt.Errorf("set weight on HTTPRoute: weight %d is outside 0-100", weight)
	}
	t := targetOf(s)
	if t.generated {
		if err := r.ensureGenerated(ctx, s, t); err != nil {
			return false, err
		}
	}
	hr, rules, err := r.managed(ctx, t)
	if err != nil {
		return false, err
	}
	if inPlace(&hr.Spec, rules, weight) {
		return false, nil
	}
	ops := weightPatch(&hr.Spec, hr.ResourceVersion, rules, weight)
	if err := traffic.SendPatch(ctx, r.Client, hr, ops, fmt.Sprintf("set weight %d on HTTPRoute %s", weight, t.key)); err != nil {
		return false, err
	}
	return true, nil
}

// SplitWeight reads the canary weight of the managed rules, as a
// percentage of the two backends' weights. Rules that disagree are a
// *traffic.InconsistentWeightsError; weights the implementation has not
// accepted at the route's current generation are a
// *traffic.RouteNotAcceptedError that carries the weight.
func (r *Router) SplitWeight(ctx context.Context, s traffic.Split) (int32, error) {
	t := targetOf(s)
	hr, rules, err := r.managed(ctx, t)
	if err != nil {
		return 0, err
	}
	weights := canaryWeights(&hr.Spec, rules)
	first := weights[rules[0].name]
	for _, w := range weights {
		if w != first {
			return 0, &traffic.InconsistentWeightsError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name, Weights: weights}
		}
	}
	if reason, rejected, ok := acceptance(hr); !ok {
		return first, &traffic.RouteNotAcceptedError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name,
			CanaryWeight: first, Rejected: rejected, Reason: reason}
	}
	return first, nil
}

// managed reads the HTTPRoute and finds the rules Sluice manages in it.
func (r *Router) managed(ctx context.Context, t target) (*gatewayv1.HTTPRoute, []managedRule, error) {
	hr, err := r.read(ctx, t.key)
	if err != nil {
		return nil, nil, err
	}
	if hr == nil || (t.generated && traffic.Released(hr)) {
		// Why a released route counts as missing: it is the user's until
		// EnsureSplit claims it back, as a missing one is created.
		return nil, nil, &traffic.RouteNotFoundError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name}
	}
	rules, reasons := findManagedRules(&hr.Spec, t.rules, t.backends)
	if len(hr.Spec.ParentRefs) == 0 {
		reasons = append(reasons, "it has no parentRefs: no Gateway or mesh would carry its traffic")
	}
	if len(reasons) > 0 {
		return nil, nil, &traffic.UnmanageableRouteError{Kind: kind, Namespace: t.key.Namespace, Name: t.key.Name, Reasons: reasons}
	}
	return hr, rules, nil
}

// read gets an HTTPRoute; a missing one is nil with no error.
func (r *Router) read(ctx context.Context, key types.NamespacedName) (*gatewayv1.HTTPRoute, error) {
	hr := &gatewayv1.HTTPRoute{}
	if ok, err := traffic.Read(ctx, r.Client, "HTTPRoute", key, hr); !ok {
		return nil, err
	}
	return hr, nil
}
