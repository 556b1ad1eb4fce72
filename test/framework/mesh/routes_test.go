package mesh

import (
	"testing"

	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1alpha3"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// istioRoute is an HTTP route with weighted destinations, host then weight.
func istioRoute(name string, dests ...any) *istioapi.HTTPRoute {
	r := &istioapi.HTTPRoute{Name: name}
	for i := 0; i < len(dests); i += 2 {
		r.Route = append(r.Route, &istioapi.HTTPRouteDestination{
			Destination: &istioapi.Destination{Host: dests[i].(string)}, Weight: int32(dests[i+1].(int)),
		})
	}
	return r
}

func TestAVirtualServiceSplitsByTheFirstOrTheNamedHTTPRoute(t *testing.T) {
	g := NewWithT(t)
	vs := &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		istioRoute("header", "podinfo-canary", 100),
		istioRoute("sluice", "podinfo-primary", 90, "podinfo-canary.shop.svc.cluster.local", 10),
	}}

	g.Expect(virtualServiceDestinations(vs, "")).To(Equal([]destination{{"podinfo-canary", 100}}))
	g.Expect(virtualServiceDestinations(vs, "sluice")).To(Equal([]destination{
		{"podinfo-primary", 90}, {"podinfo-canary.shop.svc.cluster.local", 10},
	}))
	g.Expect(virtualServiceDestinations(vs, "missing")).To(BeEmpty())
}

func TestDestinationsWithoutWeightsShareEqually(t *testing.T) {
	g := NewWithT(t)
	vs := &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{istioRoute("", "podinfo-primary", 0)}}
	g.Expect(virtualServiceDestinations(vs, "")).To(Equal([]destination{{"podinfo-primary", 1}}))
}

func TestAnHTTPRouteSplitsByBackendWeightsDefaultingToOne(t *testing.T) {
	g := NewWithT(t)
	ns, weight, kind := gatewayv1.Namespace("shop"), int32(25), gatewayv1.Kind("ServiceImport")
	name := gatewayv1.SectionName("sluice")
	backend := func(name string, mutate func(*gatewayv1.HTTPBackendRef)) gatewayv1.HTTPBackendRef {
		b := gatewayv1.HTTPBackendRef{}
		b.Name = gatewayv1.ObjectName(name)
		mutate(&b)
		return b
	}
	hr := &gatewayv1.HTTPRoute{Spec: gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{
		{BackendRefs: []gatewayv1.HTTPBackendRef{backend("other", func(*gatewayv1.HTTPBackendRef) {})}},
		{Name: &name, BackendRefs: []gatewayv1.HTTPBackendRef{
			backend("podinfo-primary", func(*gatewayv1.HTTPBackendRef) {}),
			backend("podinfo-canary", func(b *gatewayv1.HTTPBackendRef) { b.Namespace, b.Weight = &ns, &weight }),
			backend("imported", func(b *gatewayv1.HTTPBackendRef) { b.Kind = &kind }),
		}},
	}}}

	g.Expect(httpRouteDestinations(hr, "")).To(Equal([]destination{{"other", 1}}))
	g.Expect(httpRouteDestinations(hr, "sluice")).To(Equal([]destination{
		{"podinfo-primary", 1}, {"podinfo-canary.shop", 25}, {"", 1},
	}))
}
