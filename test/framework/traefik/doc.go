// Package traefik runs a real Traefik, a conformant Gateway API
// implementation, as the data plane of a local control plane
// (test/framework/cluster): test support for the suites and the sandbox,
// never imported by the operator.
//
// Start installs what Traefik needs in the cluster and runs it as a child
// process outside the cluster, as its kubernetesgateway provider allows
// (`--providers.kubernetesgateway.endpoint`, `.token`, `.certauthfilepath`):
//
//   - a ServiceAccount with a ClusterRole that reads Services,
//     EndpointSlices, Secrets, ConfigMaps, Namespaces and the Gateway API
//     kinds and writes their status, and a token for it (TokenRequest);
//   - the GatewayClass `traefik` (controller traefik.io/gateway-controller)
//     and a Gateway `sluice` with one HTTP listener whose port is the `web`
//     entry point's, a free loopback port: Traefik binds a Gateway listener
//     to the entry point of the same port;
//   - a `metrics` entry point on another free port, serving Traefik's
//     Prometheus metrics (traefik_service_requests_total, ...) at /metrics
//     and its health at /ping.
//
// It returns once Traefik answers /ping and has marked the Gateway
// Programmed. HTTPRoutes whose parentRef is Gateway() are then served at
// URL(). Traefik sends a backend's share to the ready addresses of the
// Service's EndpointSlices; on a cluster with loopback pod addresses
// test/framework/podnet writes them and serves the pods:
//
//	c, _ := cluster.Start(ctx, cluster.Options{CRDs: crds, PodCIDR: cluster.LoopbackPodCIDR})
//	tr, err := traefik.Start(ctx, c, traefik.Options{Log: os.Stderr})
//	...
//	defer tr.Stop()
//	prom.SetTargets(ctx, tr.MetricsAddr())
//
// The binary is the one `hack/tools.sh path traefik` names (`make tools`
// builds it once, ~10 minutes on a quiet machine), or $SLUICE_TRAEFIK.
// When it is missing Start fails and says how to build it: a test that skips
// proves nothing. Tests never build it. Traefik logs to Dir/traefik.log; on
// Linux the kernel kills it if the process that started it dies.
package traefik
