package rollout

import "fmt"

// Action is one idempotent write the shell carries out for a decision. The set
// is closed: the types in this file are the only Actions. (Hooks are not
// Actions: Next records a run in status.hooks with phase Running, and the
// shell progresses every Running run it finds there; see CanaryObserved.Hooks.) The shell executes
// them in the order given and stops at the first error (returning it, so that
// controller-runtime retries the whole reconcile).
type Action interface {
	fmt.Stringer
	isAction()
}

// SetWeight asks the router to send Weight percent of the traffic to the canary
// and the rest to the primary, creating a generated route when none exists.
// The shell skips the write when the route already carries that weight; the
// weight the router then reports comes back in the next Observed.
type SetWeight struct {
	// Weight of the canary, 0 to 100.
	Weight int32
}

// EnsurePrimary asks for the primary Deployment (<name>-primary) to run the
// pod template whose revision (pod template hash) is Revision, creating it
// when missing. When the target Deployment is at Revision its template is
// copied (initialization and promotion); otherwise Revision is an older
// template of the primary itself, restored from its ReplicaSet history (a
// rollback during a promotion).
type EnsurePrimary struct {
	// Revision the primary must run.
	Revision string
}

// ScaleCanary asks for the target Deployment, which runs the canary, to be
// scaled to Replicas. Zero takes the canary out of service.
type ScaleCanary struct {
	// Replicas wanted.
	Replicas int32
}

func (SetWeight) isAction()     {}
func (EnsurePrimary) isAction() {}
func (ScaleCanary) isAction()   {}

// String describes the action for logs.
func (a SetWeight) String() string { return fmt.Sprintf("set canary weight to %d%%", a.Weight) }

// String describes the action for logs.
func (a EnsurePrimary) String() string {
	return fmt.Sprintf("ensure primary runs revision %s", a.Revision)
}

// String describes the action for logs.
func (a ScaleCanary) String() string {
	return fmt.Sprintf("scale canary to %d replicas", a.Replicas)
}
