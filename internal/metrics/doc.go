// Package metrics holds the operator's own Prometheus collectors: the state
// of every release (weight, phase, judge evidence), what happened to releases
// (promotions, rollbacks, analysis results) and how long metric queries take.
// They are registered on controller-runtime's registry, so they are served on
// the manager's metrics endpoint next to its reconcile metrics.
package metrics
