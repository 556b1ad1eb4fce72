package rollout

import (
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// WorkloadState is what the shell read from one Deployment.
type WorkloadState struct {
	// Exists is false when the Deployment was not found.
	Exists bool
	// Revision is the hash of the user's pod template the Deployment runs,
	// computed the same way for the target and the primary (the workload
	// package owns the function), so that equal templates have equal
	// revisions.
	Revision string
	// DesiredReplicas is spec.replicas.
	DesiredReplicas int32
	// ReadyReplicas counts ready pods of Revision; the shell reports 0 while
	// the Deployment's controller has not observed its latest generation.
	ReadyReplicas int32
	// Rolling is true while the Deployment has not settled at its current
	// template: its controller has not observed the latest spec, pods of an
	// older template remain, or fewer pods than wanted are available. A
	// Deployment that is rolling is never "ready", however many pods are.
	Rolling bool
	// Autoscaled is true when a HorizontalPodAutoscaler owns the
	// Deployment's replicas: Next then writes them only when it must (see
	// canaryReplicas), and the shell never writes the primary's.
	Autoscaled bool
	// SelectorStale is true for a primary whose selector is not the one
	// Sluice now gives it (made before the primary's pods had labels of
	// their own, or for a target whose selector changed). A Deployment's
	// selector cannot be changed: Next replaces such a primary while it
	// serves no traffic (ReplacePrimary), and the shell keeps its selector
	// until then.
	SelectorStale bool
}

// readyAt reports whether the Deployment runs rev, settled, with every wanted
// pod ready: a pod set traffic may move to.
func (w WorkloadState) readyAt(rev string) bool {
	return w.Exists && rev != "" && w.Revision == rev && w.DesiredReplicas > 0 &&
		w.ReadyReplicas >= w.DesiredReplicas && !w.Rolling
}

// RouteState is what the router reports.
type RouteState struct {
	// Exists is false when the VirtualService or HTTPRoute was not found.
	Exists bool
	// CanaryWeight is the canary's weight as read back from the route, 0 to
	// 100; the highest of them when the routes disagree.
	CanaryWeight int32
	// Inconsistent is true when the routes Sluice manages in the object
	// carry different canary weights (a hand edit, a Git sync that added a
	// route). No weight counts as read back then: SetWeight puts them back
	// in line first.
	Inconsistent bool
	// Unmanageable says why the router cannot manage the route object (a
	// named route missing, destinations that are not the primary and the
	// canary, an object of the same name that belongs to someone else);
	// empty when it can. Nothing is written to such a route.
	Unmanageable string
	// NotAccepted quotes the implementation that serves the route (a
	// Gateway API controller or mesh) when its status on the route has not
	// confirmed the route's current generation, or refused it; empty when
	// it confirmed, or when the router has no such status (Istio). No
	// weight counts as read back then: the data plane may not carry it.
	NotAccepted string
}

// carries reports whether the route was read back at canary weight w, the
// same in every managed route.
func (r RouteState) carries(w int32) bool {
	return r.Exists && !r.Inconsistent && r.Unmanageable == "" && r.NotAccepted == "" && r.CanaryWeight == w
}

// PendingCommand is a manual command read from the object's annotations
// (see CommandsFromAnnotations). Next carries it out once: a command whose
// name and ID are recorded in status.commands is done.
type PendingCommand struct {
	// Name of the command.
	Name v1alpha1.Command
	// ID is the value of the command's annotation.
	ID string
	// By names who gave it, as the client reported it; "" when unknown.
	By string
}

// CanaryObserved is everything the shell read for one reconcile of a Canary.
// Next reads nothing else.
type CanaryObserved struct {
	// Now is the reconcile's clock reading. Next truncates it to the second,
	// the precision timestamps keep in status.
	Now time.Time
	// Generation is the Canary's metadata.generation.
	Generation int64
	// Target is the user's Deployment (spec.targetRef). Its template is the
	// new version and it runs the canary pods.
	Target WorkloadState
	// Primary is the <name>-primary Deployment, the stable version.
	Primary WorkloadState
	// Route is the weight the router reports.
	Route RouteState
	// Check is the result of the analysis check the shell ran in this
	// reconcile. The shell runs one only when AnalysisDue(spec, status, Now)
	// is true; Next ignores a check that was not due.
	Check *Check
	// Hooks are the runs the shell progressed in this reconcile: for each
	// run in status.hooks whose phase is Running, the run returned by
	// hooks.Runner.Run with that run as prev (a webhook attempt when due, a
	// Job created or read). Next records a hook's run in status, Running,
	// when its turn comes. Runs of another revision, and runs started before
	// status.releaseStartedAt (an attempt before a retry), are ignored.
	Hooks []v1alpha1.HookStatus
	// Commands are the manual commands in the annotations, one per kind at
	// most, in any order; those already carried out are skipped.
	Commands []PendingCommand
}
