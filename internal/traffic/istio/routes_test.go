package istio

import (
	"testing"

	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/sluice-dev/sluice/internal/traffic"
)

var testHosts = hosts{namespace: "shop", primary: "podinfo-primary", canary: "podinfo-canary"}

// route builds an HTTP route with destinations host=weight, in order.
func route(name string, dests ...any) *istioapi.HTTPRoute {
	r := &istioapi.HTTPRoute{Name: name}
	for i := 0; i < len(dests); i += 2 {
		r.Route = append(r.Route, &istioapi.HTTPRouteDestination{
			Destination: &istioapi.Destination{Host: dests[i].(string)},
			Weight:      int32(dests[i+1].(int)),
		})
	}
	return r
}

func TestSameService(t *testing.T) {
	tests := []struct {
		name string
		host string
		want bool
	}{
		{"a short name is the Service of the VirtualService's namespace", "podinfo-primary", true},
		{"name.namespace is the Service", "podinfo-primary.shop", true},
		{"name.namespace.svc is the Service", "podinfo-primary.shop.svc", true},
		{"the fully qualified name is the Service", "podinfo-primary.shop.svc.cluster.local", true},
		{"the same name in another namespace is another Service", "podinfo-primary.other", false},
		{"a longer name that starts alike is another Service", "podinfo-primary-v2", false},
		{"a suffix glued to svc is another host", "podinfo-primary.shop.svcx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(sameService(tt.host, "podinfo-primary", "shop")).To(Equal(tt.want))
		})
	}
}

func TestFindManagedRoutes(t *testing.T) {
	tests := []struct {
		name        string
		http        []*istioapi.HTTPRoute
		names       []string
		want        []managedRoute
		wantReasons []string
	}{
		{
			name: "without names, every route to exactly primary and canary is managed and the others are left out",
			http: []*istioapi.HTTPRoute{
				route("admin", "admin", 100),
				route("api", "podinfo-canary.shop.svc.cluster.local", 0, "podinfo-primary", 100),
				route("mirror", "podinfo-primary", 50, "podinfo-canary", 25, "other", 25),
				route("", "podinfo-primary", 100, "podinfo-canary", 0),
			},
			want: []managedRoute{
				{name: "api", index: 1, primary: 1, canary: 0},
				{name: "", index: 3, primary: 0, canary: 1},
			},
		},
		{
			name:  "with names, only the named routes are managed even if others match",
			http:  []*istioapi.HTTPRoute{route("a", "podinfo-primary", 100, "podinfo-canary", 0), route("b", "podinfo-primary", 100, "podinfo-canary", 0)},
			names: []string{"b"},
			want:  []managedRoute{{name: "b", index: 1, primary: 0, canary: 1}},
		},
		{
			name:        "a named route that is missing is a reason and nothing is managed",
			http:        []*istioapi.HTTPRoute{route("a", "podinfo-primary", 100, "podinfo-canary", 0)},
			names:       []string{"a", "b"},
			wantReasons: []string{`no HTTP route named "b"`},
		},
		{
			name:        "a named route with other destinations is a reason",
			http:        []*istioapi.HTTPRoute{route("a", "podinfo-primary", 100)},
			names:       []string{"a"},
			wantReasons: []string{`HTTP route "a" must have exactly two destinations, podinfo-primary and podinfo-canary`},
		},
		{
			name:        "no matching route at all is a reason",
			http:        []*istioapi.HTTPRoute{route("a", "podinfo", 100)},
			wantReasons: []string{"no HTTP route sends traffic to exactly podinfo-primary and podinfo-canary"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, reasons := findManagedRoutes(&istioapi.VirtualService{Http: tt.http}, tt.names, testHosts)
			g.Expect(reasons).To(Equal(tt.wantReasons))
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestWeightsInPlaceAndPatch(t *testing.T) {
	vs := &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		route("admin", "admin", 100),
		route("api", "podinfo-canary", 10, "podinfo-primary", 90),
	}}
	routes, reasons := findManagedRoutes(vs, nil, testHosts)

	t.Run("the weight the route carries is in place and no other is", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(reasons).To(BeEmpty())
		g.Expect(inPlace(vs, routes, 10)).To(BeTrue())
		g.Expect(inPlace(vs, routes, 50)).To(BeFalse())
		g.Expect(canaryWeights(vs, routes)).To(Equal(map[string]int32{"api": 10}))
	})

	t.Run("a canary weight with a primary weight that does not complete 100 is not in place", func(t *testing.T) {
		g := NewWithT(t)
		odd := &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{route("api", "podinfo-canary", 10, "podinfo-primary", 10)}}
		oddRoutes, _ := findManagedRoutes(odd, nil, testHosts)
		g.Expect(inPlace(odd, oddRoutes, 10)).To(BeFalse())
	})

	t.Run("the patch tests what it read and writes weights that sum to 100 at the managed route only", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(weightPatch(vs, "42", routes, 50)).To(Equal([]traffic.PatchOp{
			{Op: "test", Path: "/metadata/resourceVersion", Value: "42"},
			{Op: "test", Path: "/spec/http/1/route/1/destination/host", Value: "podinfo-primary"},
			{Op: "add", Path: "/spec/http/1/route/1/weight", Value: int32(50)},
			{Op: "test", Path: "/spec/http/1/route/0/destination/host", Value: "podinfo-canary"},
			{Op: "add", Path: "/spec/http/1/route/0/weight", Value: int32(50)},
		}))
	})
}
