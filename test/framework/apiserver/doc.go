// Package apiserver starts an envtest API server for Sluice's tests: a real
// kube-apiserver and etcd (from the cache hack/tools.sh fills), with
// Sluice's CRDs and the Istio and Gateway API CRDs installed from the Go
// module cache, and helpers to run the operator's reconcilers against it
// (a manager, the Deployment stand-in, a real Prometheus, restarts).
//
// It is test support: nothing in the operator imports it.
package apiserver
