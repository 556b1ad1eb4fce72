// Package process runs the programs the test framework starts (etcd,
// kube-apiserver and the rest of a local control plane, Prometheus,
// Traefik) as child processes of the test: each writes its output to a log
// file, dies with the process that started it (on Linux), and is stopped
// with SIGTERM, then SIGKILL after a grace period. An early exit is reported
// with the end of the log, and marked when a port picked for the program
// was taken meanwhile, so that the caller can try other ports.
//
// It is test support: nothing in the operator imports it.
package process
