// Package zerodowntime measures Sluice's lifecycle operations under live
// traffic on the local control plane (etcd, kube-apiserver,
// kube-controller-manager with its garbage collector and HPA controller,
// kube-scheduler, kwok) through the mesh emulator, and asserts that none of
// them fails a request for lack of an endpoint or a route: onboarding next
// to an existing Service, deleting a Canary at rest and mid-release,
// deleting a BlueGreen at rest and after a flip, promoting a RollingUpdate
// and a Recreate target, rolling back on a failed Prometheus check, and
// aborting while progressing, paused and promoting; and, for a target
// deleted mid-release, that the canary weight is back at 0 at once, with
// the failures counted and reported. Every version but v2-bad answers with
// 0% errors, so every failure counted is one Sluice caused. kwok is given
// delays, so that pods take seconds to become ready and to go away, as
// with a real kubelet. Independent scenarios run at once, each in its own
// namespace.
//
// A real HorizontalPodAutoscaler reads CPU through a stand-in for
// metrics-server (cluster.ServeMetrics): one on <target>-primary keeps
// scaling the primary through a release. The same release with the HPA on
// the target runs only with SLUICE_ZERODOWNTIME=full (make
// test-zerodowntime): it fails today, the HPA controller refusing the
// primary's copy (AmbiguousSelector). `make test` runs the rest;
// docs/reliability.md holds the measured table.
package zerodowntime
