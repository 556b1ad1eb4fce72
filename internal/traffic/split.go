package traffic

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Split is what a router needs to know about one release object's route:
// who owns a generated route, which router and route object the spec
// names, and the two Services the managed routes divide the traffic
// between. A Canary splits between its primary and canary Services; a
// BlueGreen between its blue and green Services, always 0/100.
type Split struct {
	// Owner is the release object (a Canary or a BlueGreen): a generated
	// route carries its controller reference, and only a route it controls
	// (by UID) is handed back or deleted as generated.
	Owner metav1.Object
	// OwnerKind is the owner's group, version and kind.
	OwnerKind schema.GroupVersionKind
	// Routing is the owner's trafficRouting.
	Routing v1alpha1.TrafficRouting
	// Target is the name of the owner's target Deployment: a generated
	// route is named after it, and its apex Service is ApexName(Target).
	Target string
	// Port is the port of the Services.
	Port int32
	// Primary and Canary are the names of the two Services of each managed
	// route. A weight is the Canary Service's share; Primary gets the rest.
	Primary, Canary string
}

// CanarySplit is the Split of a Canary: its primary and canary Services.
func CanarySplit(c *v1alpha1.Canary) Split {
	name := c.Spec.TargetRef.Name
	return Split{
		Owner: c, OwnerKind: v1alpha1.GroupVersion.WithKind("Canary"),
		Routing: c.Spec.TrafficRouting, Target: name, Port: c.Spec.Service.Port,
		Primary: workload.PrimaryName(name), Canary: workload.CanaryName(name),
	}
}

// BlueGreenSplit is the Split of a BlueGreen with trafficRouting: its blue
// Service takes the weight's rest, its green Service the weight, so that 0
// sends everything to blue and 100 everything to green (see ColorWeight).
// A BlueGreen without trafficRouting has an empty Routing.
func BlueGreenSplit(bg *v1alpha1.BlueGreen) Split {
	name := bg.Spec.TargetRef.Name
	s := Split{
		Owner: bg, OwnerKind: v1alpha1.GroupVersion.WithKind("BlueGreen"),
		Target: name, Port: bg.Spec.Service.Port,
		Primary: workload.ColorName(name, v1alpha1.ColorBlue), Canary: workload.ColorName(name, v1alpha1.ColorGreen),
	}
	if bg.Spec.TrafficRouting != nil {
		s.Routing = *bg.Spec.TrafficRouting
	}
	return s
}

// ColorWeight is the weight of a BlueGreenSplit that sends all the traffic
// to color: 0 for blue, 100 for green.
func ColorWeight(color v1alpha1.Color) int32 {
	if color == v1alpha1.ColorGreen {
		return 100
	}
	return 0
}

// ColorOf is the color a BlueGreenSplit's weight sends all the traffic to,
// and "" for any weight between, which sends some to each.
func ColorOf(weight int32) v1alpha1.Color {
	switch weight {
	case 0:
		return v1alpha1.ColorBlue
	case 100:
		return v1alpha1.ColorGreen
	}
	return ""
}

// SplitRouteName is the name of the route object s's weights are written
// to: the one its spec names, or the one Sluice generates, named after the
// target.
func SplitRouteName(s Split) string {
	r := s.Routing
	switch {
	case r.Istio != nil && r.Istio.VirtualService.Name != "":
		return r.Istio.VirtualService.Name
	case r.GatewayAPI != nil && r.GatewayAPI.HTTPRoute.Name != "":
		return r.GatewayAPI.HTTPRoute.Name
	}
	return s.Target
}
