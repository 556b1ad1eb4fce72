// Package gatewayapi is the traffic Router that splits a Canary's traffic
// with a Gateway API HTTPRoute (gateway.networking.k8s.io/v1), the API that
// Linkerd, Istio's Gateway API mode, Envoy Gateway, Contour, Traefik and
// others implement. It reads and writes through a controller-runtime client.
//
// With httpRoute.parentRefs, Sluice generates an HTTPRoute named after the
// target and owned by the Canary: the parents are Gateways (north-south) or
// the apex Service (the mesh case, GAMMA), and one rule sends weighted
// traffic to the backendRefs <target>-primary and <target>-canary on the
// spec's port. When the Canary is deleted the route is handed back (one
// backendRef, the apex Service); then a route with a Gateway parent, the
// Gateway's only way to the app, is released to the user (kept, no longer
// owned or managed) and a mesh-only one is deleted.
//
// With httpRoute.name, the HTTPRoute is the user's. Sluice manages the
// rules named in httpRoute.rules, or else every rule whose backendRefs are
// exactly the primary and canary Services, and writes only their two
// weights, with a JSON patch under the field manager "sluice" that first
// tests the resourceVersion and backend names it read: every other rule,
// match, filter, backend and field stays as it was. A missing HTTPRoute is a
// *traffic.RouteNotFoundError and nothing is created.
//
// The weights an HTTPRoute carries count as read back only once the
// implementation confirmed them: its status on the route says Accepted and
// ResolvedRefs True for every parent, at the route's current generation.
// Until then SplitWeight returns a *traffic.RouteNotAcceptedError that
// quotes the implementation, and a step's clock does not start.
package gatewayapi
