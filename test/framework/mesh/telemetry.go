package mesh

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names, as Istio's standard metrics name them.
const (
	// RequestsTotal counts requests, labeled by Labels.
	RequestsTotal = "istio_requests_total"
	// RequestDuration is a histogram of request latencies in milliseconds,
	// labeled by Labels.
	RequestDuration = "istio_request_duration_milliseconds"
)

// Labels are the labels of both metrics, a subset of Istio's standard
// labels: the emulator reports as the destination's sidecar.
var Labels = []string{
	"reporter",
	"destination_workload",
	"destination_workload_namespace",
	"destination_service",
	"destination_service_name",
	"destination_service_namespace",
	"request_protocol",
	"response_code",
}

// DurationBuckets are Istio's default buckets for RequestDuration, in
// milliseconds.
var DurationBuckets = []float64{
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
}

// unknown is the label value Istio reports when it cannot tell.
const unknown = "unknown"

// telemetry holds the shared metrics of every stand-in and serves them.
type telemetry struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	server   *http.Server
	listener net.Listener
	served   chan error
}

// newTelemetry registers the metrics on a registry of their own and listens
// on a free loopback port.
func newTelemetry() (*telemetry, error) {
	t := &telemetry{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RequestsTotal,
			Help: "Requests served by the mesh emulator's stand-ins, labeled as Istio labels them.",
		}, Labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    RequestDuration,
			Help:    "Latency the stand-ins drew for each request, in milliseconds, labeled as Istio labels them.",
			Buckets: DurationBuckets,
		}, Labels),
		served: make(chan error, 1),
	}
	t.registry.MustRegister(t.requests, t.duration)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the metrics endpoint: %w", err)
	}
	t.listener = l
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{}))
	t.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { t.served <- t.server.Serve(l) }()
	return t, nil
}

// addr is the metrics endpoint's host:port.
func (t *telemetry) addr() string {
	return t.listener.Addr().String()
}

// close stops the metrics endpoint at once.
func (t *telemetry) close() error {
	if err := t.server.Close(); err != nil {
		return fmt.Errorf("stop the metrics endpoint: %w", err)
	}
	if err := <-t.served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("the metrics endpoint stopped serving: %w", err)
	}
	return nil
}

// record counts one request served by workload of namespace, addressed to
// host.
func (t *telemetry) record(workload, namespace, host string, o outcome) {
	fqdn, name, svcNamespace := unknown, unknown, unknown
	if svc, ok := parseHost(host, namespace); ok {
		fqdn, name, svcNamespace = svc.fqdn(), svc.name, svc.namespace
	}
	values := []string{
		"destination", workload, namespace, fqdn, name, svcNamespace, "http", strconv.Itoa(o.code),
	}
	t.requests.WithLabelValues(values...).Inc()
	t.duration.WithLabelValues(values...).Observe(float64(o.latency) / float64(time.Millisecond))
}

// recordFailure counts one request the mesh failed before any pod saw it,
// as Istio's source reporter counts it: the destination Service host when
// there is one (else unknown), destination_workload unknown, and Envoy's
// response code.
func (t *telemetry) recordFailure(host string, code int) {
	fqdn, name, svcNamespace := unknown, unknown, unknown
	if svc, ok := parseHost(host, ""); ok && host != "" {
		fqdn, name, svcNamespace = svc.fqdn(), svc.name, svc.namespace
	}
	values := []string{"source", unknown, unknown, fqdn, name, svcNamespace, "http", strconv.Itoa(code)}
	t.requests.WithLabelValues(values...).Inc()
	t.duration.WithLabelValues(values...).Observe(0)
}
