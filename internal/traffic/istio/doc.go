// Package istio is the traffic Router that splits a Canary's traffic with an
// Istio VirtualService (networking.istio.io/v1), read and written through a
// controller-runtime client.
//
// With no virtualService.name in the spec, Sluice generates a VirtualService
// named after the target, owned by the Canary: hosts default to the apex
// Service, gateways are optional, and one HTTP route named "sluice" sends
// weighted traffic to <target>-primary and <target>-canary on the spec's port.
// When the Canary is deleted the route is handed back (one destination, the
// apex Service); then a VirtualService bound to an ingress gateway, that
// gateway's way to the app, is released to the user (kept, no longer owned
// or managed) and one bound to the mesh alone is deleted.
//
// With a name, the VirtualService is the user's. Sluice manages the HTTP
// routes named in virtualService.routes, or else every HTTP route whose
// destinations are exactly the primary and canary Services, and writes only
// their two weights, with a JSON patch under the field manager "sluice" that
// first tests the resourceVersion and destination hosts it read: every other
// route and field, and the order of everything, stay as they were. A missing
// VirtualService is a *traffic.RouteNotFoundError and nothing is created.
//
// No DestinationRule is needed: primary and canary are distinct Services, so
// destinations are plain hosts, not subsets.
package istio
