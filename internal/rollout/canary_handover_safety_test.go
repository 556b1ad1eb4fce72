package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// safeWorld is a world that fails the test when an action changes pods
// that serve traffic: the primary's template while the route does not
// read 100% on the canary, or the canary scaled to zero before the route
// read 0% for the drain delay.
type safeWorld struct {
	*world
	g          Gomega
	zeroSince  time.Time // when the route last went to 0
	inPlace    bool      // an in-place restore of the primary is expected
	primaryOps int       // template changes of an existing primary
}

func (w *safeWorld) apply(a Action, drain time.Duration) {
	switch a := a.(type) {
	case EnsurePrimary:
		if w.primary.Exists && w.primary.Revision != a.Revision {
			w.primaryOps++
			if !w.inPlace {
				w.g.Expect(w.route.CanaryWeight).To(Equal(int32(100)), "primary changed while it served traffic")
			}
		}
	case ScaleCanary:
		if a.Replicas == 0 && w.target.DesiredReplicas > 0 {
			w.g.Expect(w.route.CanaryWeight).To(BeZero(), "canary scaled down while it had traffic")
			w.g.Expect(w.now.Sub(w.zeroSince)).To(BeNumerically(">=", drain), "canary scaled down before the drain delay")
		}
	case SetWeight:
		if a.Weight == 0 && w.route.CanaryWeight != 0 {
			w.zeroSince = w.now
		}
	}
	w.world.apply(a)
}

// driveSafe reconciles like drive, through a safeWorld, until done.
func driveSafe(g Gomega, spec v1alpha1.CanarySpec, st *v1alpha1.CanaryStatus, w *safeWorld,
	done func(v1alpha1.CanaryStatus) bool, cmd *PendingCommand) {
	for range 200 {
		obs := w.observe(1)
		obs.Hooks = w.runHooks(*st)
		if cmd != nil {
			obs.Commands = []PendingCommand{*cmd}
		}
		d := Next(spec, *st, obs)
		expectReplaySafe(g, spec, d, obs)
		*st = d.Status
		for _, a := range d.Actions {
			w.apply(a, spec.DrainDelay.Duration)
		}
		w.settle()
		if done(*st) {
			return
		}
		w.now = w.now.Add(max(d.RequeueAfter, time.Second))
	}
	g.Expect(false).To(BeTrue(), "no end after 200 reconciles: %+v", *st)
}

func TestCanaryHandoverScenarios(t *testing.T) {
	spec := drainSpec()
	start := func(g Gomega) (*safeWorld, *v1alpha1.CanaryStatus) {
		w := &safeWorld{world: newWorld("v1"), g: g}
		st := &v1alpha1.CanaryStatus{}
		driveSafe(g, spec, st, w, func(st v1alpha1.CanaryStatus) bool {
			return st.StableRevision == "v1" && w.target.DesiredReplicas == 0
		}, nil)
		w.release("v2")
		return w, st
	}

	t.Run("a promotion changes the primary only under 100% on the canary and drains before scaling down", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		driveSafe(g, spec, st, w, func(st v1alpha1.CanaryStatus) bool {
			return stableAt("v2")(st) && w.target.DesiredReplicas == 0
		}, nil)
		g.Expect(w.primaryOps).To(Equal(1))
		g.Expect(w.primary.Revision).To(Equal("v2"))
		g.Expect(w.route.CanaryWeight).To(BeZero())
	})

	t.Run("an abort at each sub-phase of a promotion returns to a ready v1 primary and drains", func(t *testing.T) {
		phases := map[string]func(v1alpha1.CanaryStatus) bool{
			"canary scaling":  func(st v1alpha1.CanaryStatus) bool { return st.PromotingAt != nil },
			"canary full":     func(st v1alpha1.CanaryStatus) bool { return st.CanaryFullAt != nil },
			"primary drained": func(st v1alpha1.CanaryStatus) bool { return st.PromotingAt != nil && st.DrainStartedAt != nil },
		}
		for name, reached := range phases {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				w, st := start(g)
				driveSafe(g, spec, st, w, reached, nil)
				driveSafe(g, spec, st, w, func(st v1alpha1.CanaryStatus) bool {
					return st.AbortedAt != nil && w.target.DesiredReplicas == 0
				}, &PendingCommand{Name: v1alpha1.CommandAbort, ID: name})
				g.Expect(w.primary.Revision).To(Equal("v1"))
				g.Expect(w.primary.readyAt("v1")).To(BeTrue())
				g.Expect(w.route.CanaryWeight).To(BeZero())
				g.Expect(st.StableRevision).To(Equal("v1"))
			})
		}
	})
}

// checkHandover checks one decision against the promotion and drain rules:
// the canary is scaled to zero only once the router reported 0% for the
// drain delay; during a promotion the primary's template changes only while
// the router reports 100% on the canary, and 100% goes only to a canary
// ready at the primary's size.
func checkHandover(g Gomega, spec v1alpha1.CanarySpec, obs CanaryObserved, d CanaryDecision) {
	st := d.Status
	m := &canaryMachine{spec: spec, obs: obs, st: st, release: release{now: truncNow(obs.Now)}}
	for _, a := range d.Actions {
		switch a := a.(type) {
		case ScaleCanary:
			if a.Replicas == 0 && obs.Target.DesiredReplicas > 0 {
				g.Expect(m.routeReads(0)).To(BeTrue(), "canary scaled down with traffic on it")
				g.Expect(m.drained()).To(BeTrue(), "canary scaled down before the drain delay")
			}
		case EnsurePrimary:
			if obs.Primary.Exists && st.PromotingAt != nil && st.AbortedAt == nil {
				g.Expect(m.routeReads(100)).To(BeTrue(), "primary changed during a promotion while it served traffic")
			}
		case ReplacePrimary:
			g.Expect(m.routeReads(100)).To(BeTrue(), "primary replaced while it served traffic")
		case SetWeight:
			if a.Weight == 100 && st.PromotingAt != nil && st.CanaryFullAt == nil {
				g.Expect(m.canaryFull()).To(BeTrue(), "100%% sent to a canary not ready at full size")
			}
		}
	}
}
