// Package gateway holds the live releases through a real Gateway API
// implementation: Sluice's Gateway API router writing an HTTPRoute that a
// real Traefik (test/traefik) serves, on a local control plane whose kwok
// pods answer on their own loopback addresses (test/podnet). Requests go
// client → Traefik → the pod's address, split by the weights Sluice wrote;
// the analysis reads Traefik's own metrics (the traefik preset), scraped by
// a real Prometheus.
//
// The suite releases a healthy version (promoted) and a bad one (rolled
// back), and asserts the outcome, that live traffic ends on the right
// version, that no request failed while only healthy versions served, and
// that the split Traefik made during each step matches the weight within a
// stated tolerance; it prints the measured split as a table.
package gateway
