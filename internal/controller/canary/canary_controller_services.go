package canary

import (
	"context"
	"errors"
	"maps"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/workload"
)

// ensureServices keeps the apex, primary and canary Services in place. Until
// the target's current ReplicaSet exists the canary Service cannot select it;
// that is a wait, not an error. The apex and primary Services select the
// labels the primary selects its pods on (renamed, see
// workload.PrimaryPodLabels; an older primary's own until it is replaced).
//
// The apex Service, the one clients call, may exist before the Canary (the
// user's own Service): it is adopted, not refused. Its selector moves to the
// primary's pods only once the primary is ready at full size; until then it
// keeps selecting what it selected (the user's pods, which serve), so that
// onboarding opens no gap. A new apex Service selects the user's pods the
// same way until the primary can take over. While the primary is replaced
// with all traffic on the canary (rollout.ApexOnCanary) it selects the
// canary's pods.
func (r *Reconciler) ensureServices(ctx context.Context, c *v1alpha1.Canary, obs *observation) error {
	hash, err := workload.CanaryHash(ctx, r.Client, obs.target)
	if err != nil {
		if errors.Is(err, workload.ErrNoReplicaSet) {
			return nil
		}
		return err
	}
	primaryPods, err := workload.PrimaryPodLabels(obs.target)
	if err != nil {
		return err
	}
	if obs.primary != nil {
		primaryPods = workload.SelectorLabels(obs.primary)
	}
	svcs, err := workload.CanaryServices(c, obs.target, primaryPods, hash)
	if err != nil {
		return err
	}
	apex := svcs[0]
	primaryReady := obs.Primary.Exists && obs.Primary.DesiredReplicas > 0 &&
		obs.Primary.ReadyReplicas >= obs.Primary.DesiredReplicas
	keep := !primaryReady
	switch {
	case rollout.ApexOnCanary(c.Status, obs.Primary):
		apex.Spec.Selector, keep = maps.Clone(svcs[2].Spec.Selector), false
	case !primaryReady:
		base, err := workload.BaseSelector(obs.target)
		if err != nil {
			return err
		}
		apex.Spec.Selector = base
	}
	if err := workload.EnsureApexService(ctx, r.Client, c, apex, keep); err != nil {
		return err
	}
	return workload.EnsureServices(ctx, r.Client, c, svcs[1:])
}
