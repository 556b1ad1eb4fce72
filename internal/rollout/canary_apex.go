package rollout

import "github.com/sluice-dev/sluice/api/v1alpha1"

// ApexOnCanary reports whether the apex Service, which clients outside the
// mesh call, selects the canary's pods rather than the primary's: while a
// promotion or a rollback from it has all traffic on the canary and the
// primary is missing or about to be replaced (its selector stale), so that
// no such client calls a primary being re-created. The shell moves the apex
// back to the primary once the primary is ready at full size.
func ApexOnCanary(st v1alpha1.CanaryStatus, primary WorkloadState) bool {
	return st.CanaryFullAt != nil && st.DrainStartedAt == nil && st.CanaryRevision != "" &&
		(!primary.Exists || primary.SelectorStale)
}

// ApexPods names the pods a Canary's apex Service selects.
type ApexPods string

// The pods a Canary's apex Service may select.
const (
	// ApexOnPrimary: the primary's pods, the usual case.
	ApexOnPrimary ApexPods = "primary"
	// ApexOnTarget: the user's pods (the target's matchLabels), until the
	// primary can take over.
	ApexOnTarget ApexPods = "target"
	// ApexOnCanaryPods: the canary's pods, while the primary is replaced
	// with all traffic on the canary (see ApexOnCanary).
	ApexOnCanaryPods ApexPods = "canary"
)

// ApexSelection is what a Canary's apex Service selects, as CanaryApex
// decides it.
type ApexSelection struct {
	// Pods the apex Service selects.
	Pods ApexPods
	// Keep keeps the selector of an apex Service in place (the user's
	// Service adopted, or one already selecting what serves); Pods is then
	// only what a new one selects.
	Keep bool
}

// CanaryApex decides what the apex Service, the one clients call, selects.
// It may exist before the Canary (the user's own Service, adopted, not
// refused): its selector moves to the primary's pods only once the primary
// is ready at full size, and until then it keeps selecting what it selected
// (the user's pods, which serve), so that onboarding opens no gap; a new
// apex selects the user's pods the same way until the primary can take
// over. While the primary is replaced with all traffic on the canary
// (ApexOnCanary) it selects the canary's pods.
func CanaryApex(st v1alpha1.CanaryStatus, primary WorkloadState) ApexSelection {
	primaryReady := primary.Exists && primary.DesiredReplicas > 0 && primary.ReadyReplicas >= primary.DesiredReplicas
	switch {
	case ApexOnCanary(st, primary):
		return ApexSelection{Pods: ApexOnCanaryPods}
	case !primaryReady:
		return ApexSelection{Pods: ApexOnTarget, Keep: true}
	}
	return ApexSelection{Pods: ApexOnPrimary}
}
