// Package sandbox runs Sluice's whole closed loop on one machine, with no
// cluster: test support, never imported by the operator. `make sandbox`
// (cmd/sandbox) shows it to a person; the e2e suite (test/suites/scenarios)
// runs the same scenarios and asserts their outcomes.
//
// Start brings up
//   - a local control plane (test/framework/cluster): etcd, kube-apiserver,
//     kube-controller-manager, kube-scheduler and kwok, so that Deployments
//     get ReplicaSets and Pods that are scheduled and become Ready with no
//     kubelet, with Sluice's, Istio's and the Gateway API's CRDs;
//   - Sluice itself, wired as cmd/main.go wires it;
//   - the mesh emulator (test/framework/mesh), which sends real HTTP requests
//     split by the VirtualService's weights and by the Services' selectors to
//     stand-ins that answer as the image their pods run (Images), and exports
//     Istio's series;
//   - a real Prometheus scraping the emulator every second;
//   - a smoke-test webhook that the BlueGreen's pre-promotion hook calls;
//   - the analysis presets of config/presets, which the demo apps' analyses
//     refer to, with Prometheus as the operator's default provider.
//
// Scenarios then release versions of the demo apps (manifests/) and report
// what happened to each release: Canary podinfo gets v2 (healthy: promoted
// step by step), v3-bad (errors and slow: rolled back by the thresholds) and
// v4-slow (a slower tail well inside the thresholds, but far more slow
// requests than the primary: rolled back by the statistical judge);
// BlueGreen checkout gets
// v2-bad (its smoke test through the preview Service fails: the Service
// never flips) and v2 (tested, flipped). The gateway scenario releases
// Canary storefront's v2, v3-bad and v4-slow through a real Traefik
// (Options.Gateway: pods on loopback addresses served by test/framework/podnet,
// Traefik as the Gateway controller, traffic sent to its URL), judged by
// the traefik preset on Traefik's own metrics.
package sandbox
