package mesh

import (
	"net/http"
	"sync/atomic"
)

// Cause is why the emulator failed a request before any stand-in saw it,
// as Envoy fails a request it has nowhere to send.
type Cause string

// The causes a request fails for in the mesh itself.
const (
	// CauseNoRoute: the route object exists but no HTTP route (rule) of it
	// applies, or it has no destination; or there is no route object and no
	// Default host. Envoy answers 404 (response flag NR).
	CauseNoRoute Cause = "no-route"
	// CauseDestinationMissing: a destination names a Service that does not
	// exist (or a backend that is not a Service). Envoy has no cluster for
	// it and answers 503 (response flag NC).
	CauseDestinationMissing Cause = "destination-missing"
	// CauseNoEndpoint: the destination Service exists but selects no ready
	// pod. Envoy answers 503 "no healthy upstream" (response flag UH).
	CauseNoEndpoint Cause = "no-endpoint"
	// CauseNoStandIn: the Service's ready pods belong to a workload the
	// emulator has no stand-in for: a test set-up error, not an outage.
	CauseNoStandIn Cause = "no-stand-in"
)

// Causes lists every Cause, in a stable order.
var Causes = []Cause{CauseNoRoute, CauseDestinationMissing, CauseNoEndpoint, CauseNoStandIn}

// code is the HTTP status Envoy answers a request failed for c with.
func (c Cause) code() int {
	if c == CauseNoRoute {
		return http.StatusNotFound
	}
	return http.StatusServiceUnavailable
}

// failures counts the requests failed in the mesh, by cause.
type failures map[Cause]*atomic.Int64

func newFailures() failures {
	f := failures{}
	for _, c := range Causes {
		f[c] = &atomic.Int64{}
	}
	return f
}

// fail answers a request the mesh cannot send as Envoy would: it is counted
// by cause and exported like any other response, by the source's reporter
// (no destination sidecar saw it), with destination_workload unknown and
// the response code Envoy gives.
func (m *Mesh) fail(t target) {
	m.unrouted.Add(1)
	m.failures[t.cause].Add(1)
	host := ""
	if t.svc.name != "" {
		host = t.svc.fqdn()
	}
	m.telemetry.recordFailure(host, t.cause.code())
}

// Failures is the number of requests the mesh failed for cause c before
// they reached any pod: each was answered with c's status code (404 for no
// route, 503 otherwise) and exported to Prometheus as
// istio_requests_total{reporter="source",destination_workload="unknown",
// response_code=...}.
func (m *Mesh) Failures(c Cause) int64 {
	if n, ok := m.failures[c]; ok {
		return n.Load()
	}
	return 0
}

// OutageFailures is the number of requests failed for lack of an endpoint
// or a route (every Cause but CauseNoStandIn): the failures a lifecycle
// operation must never cause.
func (m *Mesh) OutageFailures() int64 {
	return m.Failures(CauseNoRoute) + m.Failures(CauseDestinationMissing) + m.Failures(CauseNoEndpoint)
}
