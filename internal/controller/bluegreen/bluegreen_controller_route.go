package bluegreen

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

// routerFor returns the router of a BlueGreen with trafficRouting, nil for
// one without; an unknown router is an error wrapping
// traffic.ErrUnknownRouter (a spec error).
func (r *Reconciler) routerFor(bg *v1alpha1.BlueGreen) (traffic.Router, error) {
	if bg.Spec.TrafficRouting == nil {
		return nil, nil
	}
	return r.Routers.For(*bg.Spec.TrafficRouting)
}

// routeKind is the kind of route object a trafficRouting writes to.
func routeKind(spec v1alpha1.TrafficRouting) string {
	if spec.GatewayAPI != nil {
		return "HTTPRoute"
	}
	return "VirtualService"
}

// generated reports whether Sluice generates the route of spec (no name
// given), as opposed to writing weights into one the user owns.
func generated(spec v1alpha1.TrafficRouting) bool {
	switch {
	case spec.Istio != nil:
		return spec.Istio.VirtualService.Name == ""
	case spec.GatewayAPI != nil:
		return spec.GatewayAPI.HTTPRoute.Name == ""
	}
	return false
}

// routeState reads the color the route sends all the traffic to, as the
// state machine's view of what serves, and the same for status.route. The
// router's typed errors are observations, classified here: a route that
// does not exist yet (a generated one is created by the first flip) or that
// splits the traffic serves no one color; one the router cannot manage,
// including a named route that is missing, is Unmanageable; weights the
// implementation has not accepted are NotAccepted. Only other errors are
// transient.
func routeState(ctx context.Context, bg *v1alpha1.BlueGreen, router traffic.Router) (rollout.ServiceState, *v1alpha1.BlueGreenRouteStatus, error) {
	split := traffic.BlueGreenSplit(bg)
	st := &v1alpha1.BlueGreenRouteStatus{Kind: routeKind(split.Routing), Name: traffic.SplitRouteName(split)}
	rr, err := release.ReadRoute(router.SplitWeight(ctx, split))
	switch {
	case err != nil:
		return rollout.ServiceState{}, nil, fmt.Errorf("read the route's weights: %w", err)
	case rr.Missing != "" && generated(split.Routing):
		st.Message = "not created yet: the first flip creates it"
		return rollout.ServiceState{}, st, nil
	case rr.Missing != "":
		st.Message = rr.Missing + ": create it, or remove its name to let Sluice generate one"
		return rollout.ServiceState{Unmanageable: st.Message}, st, nil
	case rr.Inconsistent != "":
		st.Message = rr.Inconsistent
		return rollout.ServiceState{Exists: true}, st, nil
	case rr.Unmanageable != "":
		st.Message = rr.Unmanageable
		return rollout.ServiceState{Exists: true, Unmanageable: st.Message}, st, nil
	case rr.NotAccepted != "":
		st.Message = rr.NotAccepted
		return rollout.ServiceState{Exists: true, NotAccepted: st.Message}, st, nil
	}
	w := rr.Weight
	st.LiveColor = traffic.ColorOf(w)
	if st.LiveColor == "" {
		st.Message = fmt.Sprintf("it splits the traffic %d/%d between blue and green", 100-w, w)
	}
	return rollout.ServiceState{Exists: true, Color: st.LiveColor}, st, nil
}

// flipRoute sends all the traffic of every managed route to color in one
// write of the weights (a generated route is created first when missing).
// Why the readiness check here too: the state machine asks for a flip only
// to a color observed ready at full size; this refuses one whose
// Deployment, as observed in this reconcile, is not, so that a route never
// points at a color that cannot take all the traffic, forward or back.
func (r *Reconciler) flipRoute(ctx context.Context, bg *v1alpha1.BlueGreen, router traffic.Router, obs *observation, color v1alpha1.Color) error {
	if obs.ActiveService.Unmanageable != "" {
		// Why: the router cannot write to it; the status says Stalled.
		return nil
	}
	if obs.ActiveService.Color != color {
		name := bg.Namespace + "/" + workload.ColorName(bg.Spec.TargetRef.Name, color)
		if err := service.CheckReady(name, obs.colors[color]); err != nil {
			return fmt.Errorf("flip the route to %s: %w", color, err)
		}
	}
	if _, err := router.SetSplit(ctx, traffic.BlueGreenSplit(bg), traffic.ColorWeight(color)); err != nil {
		return fmt.Errorf("flip the route to %s: %w", color, err)
	}
	return nil
}

// followRoute points the active Service at the color the route was read
// back sending the traffic to, and the preview Service at the other, when
// rollout.ServicesFollowRoute says so (the route watch brings the next
// reconcile as soon as a refused route is accepted). Without the target the
// Services were not ensured, and nothing follows. A color not ready at full
// size is not followed (the state machine flips the route back first).
func (r *Reconciler) followRoute(ctx context.Context, bg *v1alpha1.BlueGreen, obs *observation) error {
	if obs.target == nil || !rollout.ServicesFollowRoute(obs.routed, obs.services.Active.Color, obs.services.Preview) {
		return nil
	}
	_, err := service.Switch(ctx, r.Client, bg, obs.routed)
	if errors.Is(err, service.ErrColorNotReady) {
		return nil
	}
	return err
}

// colorServices are the Services a route sends the traffic to, one per
// color, each selecting that color's pods.
func colorServices(bg *v1alpha1.BlueGreen, base map[string]string) []*corev1.Service {
	name := bg.Spec.TargetRef.Name
	var out []*corev1.Service
	for _, c := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
		out = append(out, workload.ServiceFor(bg.Namespace, workload.ColorName(name, c), bg.Spec.Service,
			workload.ColorSelector(base, c)))
	}
	return out
}
