// Package rig starts the real control plane Sluice's tests run against: an
// envtest environment with a real kube-apiserver and etcd (built by
// hack/rig.sh), with Sluice's CRDs and the Istio and Gateway API CRDs
// installed from the Go module cache.
//
// It is test support: nothing in the operator imports it.
package rig
