package workload

import appsv1 "k8s.io/api/apps/v1"

// Readiness is what a Deployment's status says about its rollout.
type Readiness struct {
	// Observed is true once the Deployment controller has seen the latest
	// spec (status.observedGeneration >= metadata.generation). Before that
	// the counts below describe an older spec.
	Observed bool
	// Desired is spec.replicas.
	Desired int32
	// Current counts every pod of every ReplicaSet (status.replicas).
	Current int32
	// Updated counts the pods of the current template (status.updatedReplicas).
	Updated int32
	// Ready counts ready pods of any template (status.readyReplicas).
	Ready int32
	// Available counts pods ready for at least minReadySeconds
	// (status.availableReplicas).
	Available int32
}

// ReadinessOf reads a Deployment's readiness from its status.
func ReadinessOf(d *appsv1.Deployment) Readiness {
	return Readiness{
		Observed:  d.Status.ObservedGeneration >= d.Generation,
		Desired:   DesiredReplicas(d),
		Current:   d.Status.Replicas,
		Updated:   d.Status.UpdatedReplicas,
		Ready:     d.Status.ReadyReplicas,
		Available: d.Status.AvailableReplicas,
	}
}

// Complete reports whether the rollout is done: the controller saw the
// latest spec, every wanted pod runs the current template and is available,
// and no pod of an older template is left.
func (r Readiness) Complete() bool {
	return r.Observed && r.Updated >= r.Desired && r.Available >= r.Desired && r.Current == r.Updated
}

// ReadyAtRevision counts the ready pods of the current template, erring
// low: the status counts ready pods of every template together, so the pods
// of older templates still running are assumed ready and subtracted. It is 0
// while the controller has not seen the latest spec.
func (r Readiness) ReadyAtRevision() int32 {
	if !r.Observed {
		return 0
	}
	old := max(r.Current-r.Updated, 0)
	return max(min(r.Ready-old, r.Updated), 0)
}
