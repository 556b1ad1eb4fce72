// Package operator assembles Sluice from its parts: the registries of
// traffic routers and metric providers, the hook runner, the operator's
// metrics and the reconcilers, on a controller-runtime manager. cmd/main.go
// and the controller test suites both call Setup, so the tests exercise the
// wiring the operator runs.
package operator
