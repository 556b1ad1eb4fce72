// Package gateway holds the live releases through a real Gateway API
// implementation: Sluice's Gateway API router writing an HTTPRoute that a
// real Traefik (test/framework/traefik) serves, on a local control plane
// whose kwok pods answer on their own loopback addresses
// (test/framework/podnet). Requests go client → Traefik → the pod's address,
// split by the weights Sluice wrote; the analysis reads Traefik's own metrics
// (the traefik preset), scraped by a real Prometheus.
//
// The suite releases, through one Traefik and in parallel, a Canary and a
// BlueGreen, each in its own namespace. The Canary releases a healthy
// version (promoted) and a bad one (rolled back); the split Traefik made
// during each step must match the weight within a stated tolerance, and is
// printed as a table. The BlueGreen releases a healthy version (flipped
// to), a bad one stopped before the flip by a pre-promotion smoke test, and
// a bad one flipped back by a post-promotion check on Traefik's metrics;
// each flip must be one write of the route, read back from Traefik's route
// status, with no request answered by the old color after the first the
// new color answered (the switch-over window is logged). Both assert the
// outcome, that live traffic ends on the right version, and that no request
// failed while only healthy versions served.
package gateway
