// Package zerodowntime measures Sluice's lifecycle operations under live
// traffic on the local control plane (etcd, kube-apiserver,
// kube-controller-manager with its garbage collector, kube-scheduler, kwok)
// through the mesh emulator, and asserts that none of them fails a request
// for lack of an endpoint or a route: onboarding next to an existing
// Service, deleting a Canary at rest and mid-release, deleting a BlueGreen
// at rest and after a flip; and, for a target deleted mid-release, that the
// canary weight is back at 0 at once, with the failures counted and
// reported. Every version answers with 0% errors, so every failure counted
// is one Sluice caused. kwok is given delays, so that pods take seconds to
// become ready and to go away, as with a real kubelet. `make test` runs it;
// docs/reliability.md holds the measured table.
package zerodowntime
