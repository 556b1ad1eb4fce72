// Package controllertest is what the envtest suites of the Canary and
// BlueGreen reconcilers (internal/controller/canary and bluegreen) share:
// fixtures that create and read the user's objects, write the commands
// kubectl sluice writes, play a Gateway API implementation on a route, and
// the assertions both kinds make the same way. It is test support: only
// _test.go files import it. Each function takes the suite's context and
// client, and fails the running Ginkgo spec through Gomega.
package controllertest
