// Package controllertest is what the envtest suites of the Canary and
// BlueGreen reconcilers (internal/controller/canary and bluegreen) share:
// how a suite starts (RunSuite, StartSuite: the real operator wiring on a
// real API server and Prometheus) and restarts its operator, fixtures that
// create and read the user's objects, write the commands kubectl sluice
// writes, play a Gateway API implementation on a route, read what `kubectl
// get` prints (Table), and the assertions both kinds make the same way. It
// is test support: only _test.go files import it. Each function takes the
// suite's context and client, and fails the running Ginkgo spec through
// Gomega.
package controllertest
