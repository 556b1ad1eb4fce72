// Package traffic defines how Sluice shifts live traffic between the primary
// (stable) and the canary version of a workload: the Router interface every
// traffic provider implements, a Registry of routers keyed by name, and the
// typed errors a reconciler turns into conditions.
//
// A Router never decides anything: the pure state machine in
// internal/rollout asks for a weight, the reconciler calls SetWeight, and the
// next reconcile reads the weight back with Weight before a step's clock
// starts. Every method is idempotent and skips writes that change nothing, so
// a replayed reconcile is harmless.
//
// Implementations live in subpackages: istio (VirtualService weights) and,
// for BlueGreen, service (the one-write Service selector flip, which moves
// all traffic at once and so is not a weighted Router).
package traffic
