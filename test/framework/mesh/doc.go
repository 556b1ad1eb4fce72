// Package mesh is a mesh emulator for tests and the sandbox: test support,
// never imported by the operator.
//
// There is no Envoy on the machines Sluice is tested on, yet the operator's
// closed loop needs traffic split by the weights it writes and Prometheus
// series labeled the way Istio labels them. The emulator provides both:
//
//   - Stand-ins: one local HTTP server per workload (for example
//     podinfo-primary and podinfo, the user's Deployment that runs the
//     canary), on a free 127.0.0.1 port. Each answers 200 or 500 and draws a
//     latency according to its Behaviour, from a seeded random source so that
//     runs are reproducible. A stand-in's Behaviour can change while traffic flows.
//   - Telemetry: every request a stand-in serves is counted on one shared
//     metrics endpoint, as Istio's destination reporter would count it:
//     istio_requests_total and istio_request_duration_milliseconds, with the
//     labels reporter, destination_workload, destination_workload_namespace,
//     destination_service, destination_service_name,
//     destination_service_namespace, request_protocol and response_code.
//     The same PromQL therefore works here and in a real mesh.
//   - Traffic: a loop reads a VirtualService (networking.istio.io/v1) or an
//     HTTPRoute (gateway.networking.k8s.io/v1) from the API server and sends
//     real HTTP requests at a fixed rate, split by the weights of one route,
//     to the stand-ins of the destination hosts. The totals are exact over
//     time: a fractional share of a request is carried to the next tick, and
//     the split is a smooth weighted round robin, so that 90/10 weights give
//     exactly 9 requests out of 10 to the first destination. With no route
//     object, traffic goes to a default host (the apex Service, served by the
//     primary).
//
// With Options.Endpoints the emulator resolves Service hosts the way
// kube-proxy and Envoy do, from the ready pods the Service's selector
// matches, grouped by owning Deployment: a blue-green selector flip or a
// canary scaled to zero then takes effect as in a cluster. Options.Images
// makes those pods answer by the image they run (for example v3-bad: 5%
// errors and slower), so that releasing a bad image is all it takes.
//
// The emulator does not sleep for the latency it draws unless
// Options.RealLatency asks it to: it records the drawn value, which keeps
// tests fast. Everything listens on loopback and stops on Stop or when the
// context given to Start ends.
//
//	m, err := mesh.Start(ctx, mesh.Options{
//		Client:         c,
//		Namespace:      "shop",
//		VirtualService: "podinfo",
//		Rate:           200,
//		Hosts:          mesh.CanaryHosts("podinfo"),
//		Default:        "podinfo",
//		StandIns: map[string]mesh.Behaviour{
//			"podinfo-primary": {Latency: 20 * time.Millisecond},
//			"podinfo":         {ErrorFraction: 0.05, Latency: 80 * time.Millisecond},
//		},
//	})
//	defer m.Stop()
//	prom.SetTargets(ctx, m.MetricsAddr()) // a promserver.Server from test/framework/promserver
package mesh
