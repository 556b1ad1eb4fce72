package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Action is one idempotent write the shell carries out for a decision. The set
// is closed: the types in this file are the only Actions. (Hooks are not
// Actions: Next records a run in status.hooks with phase Running, and the
// shell progresses every Running run it finds there; see CanaryObserved.Hooks.)
// The shell executes them in the order given and stops at the first error
// (returning it, so that controller-runtime retries the whole reconcile).
type Action interface {
	fmt.Stringer
	isAction()
}

// CanaryAction is an Action of the Canary machine: SetWeight, EnsurePrimary
// or ScaleCanary. Each machine has its own sealed set (an unexported marker
// method), so a Canary decision cannot carry a BlueGreen action and the
// compiler refuses an executor case for an action of the other kind.
type CanaryAction interface {
	Action
	canaryAction()
}

// BlueGreenAction is an Action of the BlueGreen machine: EnsureColor,
// ScaleColor, SwitchService or ScaleTarget (see CanaryAction).
type BlueGreenAction interface {
	Action
	blueGreenAction()
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
// pod template whose revision (pod template hash) is Revision with Replicas,
// creating it when missing. When the target Deployment is at Revision its
// template is copied (initialization and promotion); otherwise Revision is
// an older template of the primary itself, restored from its ReplicaSet
// history (a rollback during a promotion).
type EnsurePrimary struct {
	// Revision the primary must run.
	Revision string
	// Replicas the primary runs: the size it has, or the target's when it
	// is created (never below one). Next keeps the primary's size; only an
	// autoscaler or the user changes it.
	Replicas int32
	// Autoscaled says that an autoscaler owns the primary's replicas:
	// Replicas is then written only when the primary is created, and no
	// later write sets or resets the count.
	Autoscaled bool
}

// ReplacePrimary asks for the primary Deployment to be deleted so that the
// next reconcile creates it anew (EnsurePrimary on a missing primary). Next
// asks for it only when the primary's selector is stale (see
// WorkloadState.SelectorStale), which no update can change, and only while
// the router reports all traffic on a fully ready canary during a
// promotion: the primary then serves nothing.
type ReplacePrimary struct {
	// Revision the primary runs when it is deleted, for logs.
	Revision string
}

// ScaleCanary asks for the target Deployment, which runs the canary, to be
// scaled to Replicas. Zero takes the canary out of service.
type ScaleCanary struct {
	// Replicas wanted.
	Replicas int32
}

func (SetWeight) isAction()      {}
func (EnsurePrimary) isAction()  {}
func (ReplacePrimary) isAction() {}
func (ScaleCanary) isAction()    {}

func (SetWeight) canaryAction()      {}
func (EnsurePrimary) canaryAction()  {}
func (ReplacePrimary) canaryAction() {}
func (ScaleCanary) canaryAction()    {}

// String describes the action for logs.
func (a SetWeight) String() string { return fmt.Sprintf("set canary weight to %d%%", a.Weight) }

// String describes the action for logs.
func (a EnsurePrimary) String() string {
	if a.Autoscaled {
		return fmt.Sprintf("ensure primary runs revision %s (replicas left to its autoscaler)", a.Revision)
	}
	return fmt.Sprintf("ensure primary runs revision %s with %d replicas", a.Revision, a.Replicas)
}

// String describes the action for logs.
func (a ReplacePrimary) String() string {
	return fmt.Sprintf("replace primary (revision %s), whose selector is stale", a.Revision)
}

// String describes the action for logs.
func (a ScaleCanary) String() string {
	return fmt.Sprintf("scale canary to %d replicas", a.Replicas)
}

// EnsureColor asks for the Deployment of one color (<name>-blue or
// <name>-green) to run Revision with Replicas, creating it when missing. When
// the target Deployment is at Revision its pod template is copied; otherwise
// the color keeps its current template (it already runs Revision, and only
// its size changes). NextBlueGreen never asks it for the color the active
// Service selects, except to create the first color.
type EnsureColor struct {
	// Color whose Deployment is meant.
	Color v1alpha1.Color
	// Revision the color must run.
	Revision string
	// Replicas wanted.
	Replicas int32
}

// ScaleColor asks for the Deployment of one color to be scaled to Replicas;
// nothing else in it changes. NextBlueGreen only scales to zero, and never
// the color the active Service selects.
type ScaleColor struct {
	// Color whose Deployment is meant.
	Color v1alpha1.Color
	// Replicas wanted.
	Replicas int32
}

// SwitchService asks for the active Service (<name>) to select Color, in one
// write, and the preview Service (<name>-preview) the other color. The shell
// skips the write when the Service already selects Color, and refuses,
// writing nothing, when Color has no ready pod. NextBlueGreen asks for it
// only when it observed Color ready at the revision it must run.
type SwitchService struct {
	// Color the active Service must select.
	Color v1alpha1.Color
}

// ScaleTarget asks for the user's Deployment (spec.targetRef) to be scaled to
// Replicas. For a BlueGreen the user's Deployment is only the template of
// each version: once the first color serves, it is held at zero replicas, so
// that a new template never runs beside the live version before its turn.
// Its replicas are the only field Sluice changes on it.
type ScaleTarget struct {
	// Replicas wanted.
	Replicas int32
}

func (EnsureColor) isAction()   {}
func (ScaleColor) isAction()    {}
func (SwitchService) isAction() {}
func (ScaleTarget) isAction()   {}

func (EnsureColor) blueGreenAction()   {}
func (ScaleColor) blueGreenAction()    {}
func (SwitchService) blueGreenAction() {}
func (ScaleTarget) blueGreenAction()   {}

// String describes the action for logs.
func (a EnsureColor) String() string {
	return fmt.Sprintf("ensure %s runs revision %s with %d replicas", a.Color, a.Revision, a.Replicas)
}

// String describes the action for logs.
func (a ScaleColor) String() string {
	return fmt.Sprintf("scale %s to %d replicas", a.Color, a.Replicas)
}

// String describes the action for logs.
func (a SwitchService) String() string {
	return fmt.Sprintf("switch the active Service to %s", a.Color)
}

// String describes the action for logs.
func (a ScaleTarget) String() string {
	return fmt.Sprintf("scale the target Deployment to %d replicas", a.Replicas)
}
