// Package canary is the thin reconciler of Canary objects. Each reconcile
// reads everything it needs (the target and primary Deployments, the route's
// weight, a due analysis check, hook runs, a manual command), asks the pure
// state machine in internal/rollout what to do, carries out its actions with
// idempotent writes, emits its events and patches status once, only when it
// changed. No state survives in memory between reconciles: status is the
// only memory, so a restarted operator resumes where the last one stopped.
package canary
