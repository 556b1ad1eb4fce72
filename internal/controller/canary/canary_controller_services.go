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
// that is a wait, not an error. The primary Service selects the labels the
// primary selects its pods on (renamed, see workload.PrimaryPodLabels; an
// older primary's own until it is replaced); the apex Service, the one
// clients call, selects what rollout.CanaryApex decides.
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
	apex, sel := svcs[0], rollout.CanaryApex(c.Status, obs.Primary)
	switch sel.Pods {
	case rollout.ApexOnCanaryPods:
		apex.Spec.Selector = maps.Clone(svcs[2].Spec.Selector)
	case rollout.ApexOnTarget:
		base, err := workload.BaseSelector(obs.target)
		if err != nil {
			return err
		}
		apex.Spec.Selector = base
	}
	if err := workload.EnsureApexService(ctx, r.Client, c, apex, sel.Keep); err != nil {
		return err
	}
	return workload.EnsureServices(ctx, r.Client, c, svcs[1:])
}
