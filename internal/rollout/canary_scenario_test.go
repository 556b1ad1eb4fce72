package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// drive reconciles the Canary in w until done says so or 200 reconciles
// passed (see driveUntil); it checks the restart property on every
// reconcile and feeds a passing (or given) check whenever one is due. It
// returns every event.
func drive(g Gomega, spec v1alpha1.CanarySpec, st *v1alpha1.CanaryStatus, w *world,
	outcome v1alpha1.MetricOutcome, done func(v1alpha1.CanaryStatus) bool) []string {
	return driveUntil(g, st, func(cur v1alpha1.CanaryStatus) (v1alpha1.CanaryStatus, []Event, time.Duration) {
		obs := w.observe(1)
		obs.Hooks = w.runHooks(cur)
		if AnalysisDue(spec, cur, w.now) {
			obs.Check = check(outcome)
		}
		d := Next(spec, cur, obs)
		expectReplaySafe(g, spec, d, obs)
		for _, a := range d.Actions {
			w.apply(a)
		}
		w.settle()
		return d.Status, d.Events, d.RequeueAfter
	}, done, func(d time.Duration) { w.now = w.now.Add(d) })
}

func stableAt(rev string) func(v1alpha1.CanaryStatus) bool {
	return func(st v1alpha1.CanaryStatus) bool { return st.StableRevision == rev && st.CanaryRevision == "" }
}

func TestCanaryScenarios(t *testing.T) {
	spec := withHooks(analysed(canarySpec(weightStep(1), pauseStep(time.Minute), weightStep(10), weightStep(50))),
		hook("migrate", v1alpha1.HookPreRollout), hook("smoke", v1alpha1.HookPostRollout),
		hook("page", v1alpha1.HookRollback))

	t.Run("a good release is promoted through every step with every transition recorded", func(t *testing.T) {
		g := NewWithT(t)
		w, st := newWorld("v1"), v1alpha1.CanaryStatus{}
		g.Expect(drive(g, spec, &st, w, v1alpha1.OutcomePassed, stableAt("v1"))).To(Equal([]string{EventInitialized}))
		drive(g, spec, &st, w, v1alpha1.OutcomePassed, func(v1alpha1.CanaryStatus) bool { return w.target.DesiredReplicas == 0 })
		w.release("v2")
		events := drive(g, spec, &st, w, v1alpha1.OutcomePassed, stableAt("v2"))
		g.Expect(events).To(Equal([]string{EventNewRevision, EventHookSucceeded,
			EventStepAdvanced, EventStepAdvanced, EventStepAdvanced,
			EventPromoting, EventTrafficOnCanary, EventHookSucceeded, EventPromoted}),
			"the last step's StepAdvanced is said by Promoting, the promotion's drain by Promoted")
		g.Expect(w.route.CanaryWeight).To(BeZero())
		g.Expect(w.primary.Revision).To(Equal("v2"))
		drive(g, spec, &st, w, v1alpha1.OutcomePassed, func(v1alpha1.CanaryStatus) bool { return w.target.DesiredReplicas == 0 })
		g.Expect(len(st.History)).To(BeNumerically("<=", v1alpha1.MaxDecisionRecords))
	})

	t.Run("a bad release is rolled back after failureLimit failed checks and never gains weight after", func(t *testing.T) {
		g := NewWithT(t)
		w, st := newWorld("v1"), v1alpha1.CanaryStatus{}
		drive(g, spec, &st, w, v1alpha1.OutcomePassed, stableAt("v1"))
		w.release("v2")
		events := drive(g, spec, &st, w, v1alpha1.OutcomeFailed,
			func(st v1alpha1.CanaryStatus) bool { return st.AbortedAt != nil && w.target.DesiredReplicas == 0 })
		g.Expect(events).To(ContainElements(EventAnalysisFailed, EventRolledBack))
		g.Expect(st.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
		g.Expect(w.route.CanaryWeight).To(BeZero())
		g.Expect(w.target.DesiredReplicas).To(BeZero())
		g.Expect(st.StableRevision).To(Equal("v1"))
		g.Expect(findHook(st.Hooks, "page", "v2")).NotTo(BeNil())
	})

	t.Run("a crash between the writes and the status patch replays to the same end", func(t *testing.T) {
		g := NewWithT(t)
		w, st := newWorld("v1"), v1alpha1.CanaryStatus{}
		drive(g, spec, &st, w, v1alpha1.OutcomePassed, stableAt("v1"))
		w.release("v2")
		lastWeight := int32(0)
		for i := 0; i < 400 && !stableAt("v2")(st); i++ {
			obs := w.observe(1)
			obs.Hooks = w.runHooks(st)
			if AnalysisDue(spec, st, w.now) {
				obs.Check = check(v1alpha1.OutcomePassed)
			}
			d := Next(spec, st, obs)
			for _, a := range d.Actions {
				w.apply(a)
			}
			w.settle()
			if i%3 != 2 {
				// Every third reconcile the operator dies before its status
				// patch: the writes happened, status did not move.
				st = d.Status
			}
			if st.PromotingAt == nil && st.CanaryRevision != "" && w.route.CanaryWeight < 100 {
				// (A promotion's 100% may be replayed back to the last
				// step's weight when its status was lost.)
				g.Expect(w.route.CanaryWeight).To(BeNumerically(">=", lastWeight), "weight regressed mid-release")
				lastWeight = w.route.CanaryWeight
			}
			w.now = w.now.Add(max(d.RequeueAfter, time.Second))
		}
		g.Expect(stableAt("v2")(st)).To(BeTrue())
	})
}
