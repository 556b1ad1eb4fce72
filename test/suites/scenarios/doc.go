// Package scenarios is Sluice's end-to-end suite: the sandbox's scenarios
// (test/framework/sandbox), run without a person watching against the same
// local control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok), the same mesh emulator and a real Prometheus, with
// their outcomes asserted: a healthy canary promoted step by step, a bad one
// rolled back by its thresholds with the failing metric named, a subtly bad
// one rolled back by the statistical judge, the canary weight never above the
// step in force, the live traffic served by the right version afterwards
// (measured from the emulator's counters), and the blue-green Service
// flipping only for the release that passed its tests. `make test` runs it.
// With SLUICE_E2E_GATEWAY=1 it also runs the gateway scenario through a real
// Traefik (about a minute and a half more; not in make test).
package scenarios
