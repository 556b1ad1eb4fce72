// Package bluegreen is the thin reconciler of BlueGreen objects. Each
// reconcile reads the user's Deployment, the two color Deployments, the
// color the active Service selects, a due analysis check, hook runs and a
// manual command; asks the pure state machine in internal/rollout what to
// do; carries out its actions with idempotent writes (the Service flip is one
// write); emits its events and patches status once, only when it changed.
// Status is the only memory, so a restarted operator resumes, including
// between the flip and the post-promotion checks.
package bluegreen
