// Package traffic defines how Sluice shifts live traffic between the two
// versions of a workload: the Router interface every traffic provider
// implements, the Split that tells a router which release object and which
// two Services it works for (CanarySplit, BlueGreenSplit), a Registry of
// routers keyed by name, the typed errors a reconciler turns into
// conditions, and the life of a route object Sluice generates (built,
// claimed, and at hand-back released or deleted; see Finish).
//
// A Router never decides anything: the pure state machine in
// internal/rollout asks for a weight, the reconciler calls SetSplit, and the
// next reconcile reads the weight back with SplitWeight before a step's
// clock starts. Every method is idempotent and skips writes that change
// nothing, so a replayed reconcile is harmless.
//
// Implementations live in subpackages: istio (VirtualService weights),
// gatewayapi (HTTPRoute weights) and, for a BlueGreen without
// trafficRouting, service (the one-write Service selector flip, which moves
// all traffic at once and so is not a weighted Router).
package traffic
