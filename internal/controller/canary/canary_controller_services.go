package canary

import (
	"context"
	"errors"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// ensureServices keeps the apex, primary and canary Services in place. Until
// the target's current ReplicaSet exists the canary Service cannot select it;
// that is a wait, not an error.
//
// The apex Service, the one clients call, may exist before the Canary (the
// user's own Service): it is adopted, not refused. Its selector moves to the
// primary's pods only once the primary is ready at full size; until then it
// keeps selecting what it selected (the user's pods, which serve), so that
// onboarding opens no gap. A new apex Service selects the user's pods the
// same way until the primary can take over.
func (r *Reconciler) ensureServices(ctx context.Context, c *v1alpha1.Canary, obs *observation) error {
	hash, err := workload.CanaryHash(ctx, r.Client, obs.target)
	if err != nil {
		if errors.Is(err, workload.ErrNoReplicaSet) {
			return nil
		}
		return err
	}
	svcs, err := workload.CanaryServices(c, obs.target, hash)
	if err != nil {
		return err
	}
	apex := svcs[0]
	primaryReady := obs.Primary.Exists && obs.Primary.DesiredReplicas > 0 &&
		obs.Primary.ReadyReplicas >= obs.Primary.DesiredReplicas
	if !primaryReady {
		base, err := workload.BaseSelector(obs.target)
		if err != nil {
			return err
		}
		apex.Spec.Selector = base
	}
	if err := workload.EnsureApexService(ctx, r.Client, c, apex, !primaryReady); err != nil {
		return err
	}
	return workload.EnsureServices(ctx, r.Client, c, svcs[1:])
}
