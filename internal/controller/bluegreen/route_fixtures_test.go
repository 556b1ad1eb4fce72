package bluegreen_test

import (
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// throughIstio routes a BlueGreen through a generated VirtualService, or
// the named one.
func throughIstio(name string) func(*v1alpha1.BlueGreen) {
	return func(bg *v1alpha1.BlueGreen) {
		bg.Spec.TrafficRouting = &v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{
			VirtualService: v1alpha1.IstioVirtualService{Name: name}}}
	}
}

// throughGateway routes a BlueGreen through the named HTTPRoute, or a
// generated one under Gateway public.
func throughGateway(name string) func(*v1alpha1.BlueGreen) {
	return func(bg *v1alpha1.BlueGreen) {
		r := v1alpha1.GatewayAPIHTTPRoute{Name: name}
		if name == "" {
			r.ParentRefs = []v1alpha1.GatewayParentRef{{Name: "public"}}
		}
		bg.Spec.TrafficRouting = &v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: r}}
	}
}

// vsWeights reads the weights of the blue and green destinations of the
// VirtualService's routes, -1 for a color no route names.
func vsWeights(vs *networkingv1.VirtualService) (blueWeight, greenWeight int32) {
	blueWeight, greenWeight = -1, -1
	for _, r := range vs.Spec.Http {
		for _, d := range r.Route {
			switch d.Destination.Host {
			case workload.ColorName(target, blue):
				blueWeight = d.Weight
			case workload.ColorName(target, green):
				greenWeight = d.Weight
			}
		}
	}
	return blueWeight, greenWeight
}

// vsColor is the color a VirtualService sends all its traffic to: "" when
// it splits, "apex" when its route goes to the active Service alone, "-"
// when it does not exist.
func vsColor(ns, name string) string {
	vs := &networkingv1.VirtualService{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, vs); err != nil {
		return "-"
	}
	return colorOfVS(vs)
}

func colorOfVS(vs *networkingv1.VirtualService) string {
	b, g := vsWeights(vs)
	switch {
	case b == 100 && g == 0:
		return string(blue)
	case b == 0 && g == 100:
		return string(green)
	case b == -1 && g == -1:
		for _, r := range vs.Spec.Http {
			if len(r.Route) == 1 && r.Route[0].Destination.Host == target {
				return "apex"
			}
		}
	}
	return ""
}

// hrColor is the color an HTTPRoute's first rule sends all its traffic
// to, with the same conventions as vsColor.
func hrColor(ns, name string) string {
	hr := &gatewayv1.HTTPRoute{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, hr); err != nil {
		return "-"
	}
	return colorOfHR(hr)
}

func colorOfHR(hr *gatewayv1.HTTPRoute) string {
	weights := map[string]int32{}
	refs := hr.Spec.Rules[0].BackendRefs
	for _, ref := range refs {
		w := int32(1)
		if ref.Weight != nil {
			w = *ref.Weight
		}
		weights[string(ref.Name)] = w
	}
	switch {
	case len(refs) == 1 && string(refs[0].Name) == target:
		return "apex"
	case weights[workload.ColorName(target, blue)] == 100 && weights[workload.ColorName(target, green)] == 0:
		return string(blue)
	case weights[workload.ColorName(target, blue)] == 0 && weights[workload.ColorName(target, green)] == 100:
		return string(green)
	}
	return ""
}

// vsHistory replays the recorded versions of VirtualService name into the
// sequence of colors it carried ("" for a split, "-" once deleted).
func vsHistory(versions []apiserver.Version, name string) []string {
	out, _ := apiserver.Replay(versions, func(s apiserver.State) (string, bool) {
		o := s.Get("*v1.VirtualServiceList", name)
		if o == nil {
			return "-", true
		}
		return colorOfVS(o.(*networkingv1.VirtualService)), true
	})
	return out
}

// liveRoute is the color status.route was read back on.
func liveRoute(ns string) v1alpha1.Color {
	bg := getBlueGreen(ns)
	if bg.Status.Route == nil {
		return ""
	}
	return bg.Status.Route.LiveColor
}
