// Package hooks runs the release hooks of Canary and BlueGreen objects: an
// HTTP webhook call or a Kubernetes Job that must succeed before a release
// moves on (pre-rollout, confirm-promotion, pre-promotion tests and so on).
//
// It is part of the thin shell around the pure state machines of
// internal/rollout: when a decision carries a rollout.RunHook action, the
// reconciler calls Runner.Run for that hook on every reconcile until the run
// has finished, and hands the returned v1alpha1.HookStatus to the next
// decision in Observed.Hooks.
//
// Status is the only memory. The Runner keeps nothing between calls: what a
// run has done so far (attempts made, when it started) arrives in the previous
// HookStatus, and a Job's progress is read from the Job itself, which is found
// again by its deterministic name (see JobName). An operator restarted in the
// middle of a run therefore resumes it, and a run that has finished for a
// revision is never repeated.
//
// A webhook call makes at most one attempt per Run, bounded by the hook's
// timeout; retries happen on later reconciles, spaced by RetryDelay and gated
// on the time recorded in status, so nothing sleeps and nothing is held in
// memory. RequeueAfter tells the reconciler when to come back.
//
// A hook is untrusted input: its author borrows nothing from the operator.
// Webhooks go through the outbound policy (package outbound: no redirect, no
// loopback, link-local or metadata address, only a short sanitised excerpt
// of the answer in status), and Job hooks through a JobPolicy (the pod runs
// as the namespace's default ServiceAccount or one the operator allows, and
// never in the operator's own namespace).
package hooks
