package canary

import (
	"context"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
)

// pass is one reconcile of an admitted Canary (see release.Pass).
type pass struct {
	r *Reconciler
	c *v1alpha1.Canary
	// spec is the Canary's spec with its analysis resolved; pins are kept in
	// status for the revision the decision leaves in flight.
	spec   v1alpha1.CanarySpec
	pins   []v1alpha1.PinnedAnalysis
	router traffic.Router
	obs    *observation
	d      rollout.CanaryDecision
}

// Hooks are the Canary's hook runs; those of the canary revision make
// progress.
func (p *pass) Hooks() release.HookRuns {
	return release.HookRuns{Runs: p.c.Status.Hooks, Revision: p.c.Status.CanaryRevision, Spec: hooks.OfCanary(p.c)}
}

// Decide runs Next and persists its status before anything acts on it,
// deciding again on a fresh read when the write meets a conflict (see
// release.PersistDecision). The commands are read again with the object.
func (p *pass) Decide(ctx context.Context, progressed []v1alpha1.HookStatus) (rollout.Outcome, error) {
	c, obs := p.c, p.obs
	obs.Hooks = progressed
	err := release.PersistDecision(ctx, p.r.Client, p.r.APIReader, c, &c.Status, func() v1alpha1.CanaryStatus {
		obs.Commands = release.PendingCommands(c)
		p.d = rollout.Next(p.spec, c.Status, obs.CanaryObserved)
		p.d.Status.PinnedAnalyses = analysis.PinsAt(p.pins, p.d.Status.CanaryRevision)
		return p.d.Status
	}, p.r.observeRelease(c))
	return p.d.Outcome, err
}

// observeRelease updates the operator's metrics from a status of c just
// written (see release.ObserveRelease).
func (r *Reconciler) observeRelease(c *v1alpha1.Canary) func(prev, next v1alpha1.CanaryStatus) {
	released := func(st *v1alpha1.CanaryStatus) release.Released {
		return release.Released{Phase: st.Phase, Weight: st.CanaryWeight, Stable: st.StableRevision, Status: &st.ReleaseStatus}
	}
	return func(prev, next v1alpha1.CanaryStatus) {
		release.ObserveRelease(r.Metrics, Kind, c.Namespace, c.Name, released(&prev), released(&next))
	}
}
