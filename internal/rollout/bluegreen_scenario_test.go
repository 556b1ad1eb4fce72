package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// driveBG reconciles the BlueGreen in w until done says so or 200
// reconciles passed (see driveUntil); it checks the restart property on
// every reconcile, feeds a check with outcome (pre) or postOutcome (after
// the flip) whenever one is due, and the given command on the first
// reconcile. It returns every event.
func driveBG(g Gomega, spec v1alpha1.BlueGreenSpec, st *v1alpha1.BlueGreenStatus, w *bgWorld,
	outcome, postOutcome v1alpha1.MetricOutcome, cmd *PendingCommand, done func(v1alpha1.BlueGreenStatus) bool) []string {
	return driveUntil(g, st, func(cur v1alpha1.BlueGreenStatus) (v1alpha1.BlueGreenStatus, []Event, time.Duration) {
		obs := w.observe(cur)
		if cmd != nil {
			obs.Commands = []PendingCommand{*cmd}
		}
		if BlueGreenAnalysisDue(spec, cur, w.now) {
			o := outcome
			if cur.SwitchedAt != nil {
				o = postOutcome
			}
			obs.Check = check(o)
		}
		d := NextBlueGreen(spec, cur, obs)
		expectBlueGreenReplaySafe(g, spec, d, obs)
		w.applyAll(d.Actions)
		w.settle()
		return d.Status, d.Events, d.RequeueAfter
	}, done, func(d time.Duration) { w.now = w.now.Add(d) })
}

func activeAt(rev string) func(v1alpha1.BlueGreenStatus) bool {
	return func(st v1alpha1.BlueGreenStatus) bool { return st.ActiveRevision == rev && st.PreviewRevision == "" }
}

func abortedBG(st v1alpha1.BlueGreenStatus) bool { return st.AbortedAt != nil }

func TestBlueGreenScenarios(t *testing.T) {
	spec := bgSpec()
	spec.PrePromotionAnalysis, spec.PostPromotionAnalysis = phaseAnalysis(2), phaseAnalysis(2)
	spec.Hooks = []v1alpha1.BlueGreenHook{bgHook("smoke", v1alpha1.HookPrePromotion),
		bgHook("e2e", v1alpha1.HookPostPromotion), bgHook("page", v1alpha1.HookBlueGreenBack)}
	passed, failed := v1alpha1.OutcomePassed, v1alpha1.OutcomeFailed
	start := func(g Gomega) (*bgWorld, *v1alpha1.BlueGreenStatus) {
		w, st := newBGWorld("v1"), &v1alpha1.BlueGreenStatus{}
		g.Expect(driveBG(g, spec, st, w, passed, passed, nil, activeAt("v1"))).To(Equal([]string{EventInitialized}))
		w.release("v2")
		return w, st
	}

	t.Run("a good release is promoted, and the old color scales down after the delay", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		g.Expect(w.target.DesiredReplicas).To(BeZero())
		events := driveBG(g, spec, st, w, passed, passed, nil, activeAt("v2"))
		g.Expect(events).To(Equal([]string{EventNewRevision, EventPreviewReady, EventHookSucceeded,
			EventPromoting, EventServiceSwitched, EventHookSucceeded, EventPromoted}))
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorGreen))
		g.Expect(w.colors[v1alpha1.ColorBlue].DesiredReplicas).To(Equal(int32(3)), "blue kept for scaleDownDelay")
		driveBG(g, spec, st, w, passed, passed, nil, func(v1alpha1.BlueGreenStatus) bool {
			return w.colors[v1alpha1.ColorBlue].DesiredReplicas == 0
		})
		g.Expect(w.now.Sub(st.ScaleDownAt.Time)).To(BeNumerically(">=", 0))
	})

	t.Run("a failed pre-promotion hook never flips and scales the idle color down", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		w.hooks = v1alpha1.HookFailed
		events := driveBG(g, spec, st, w, passed, passed, nil, abortedBG)
		g.Expect(events).To(ContainElements(EventHookFailed, EventRolledBack))
		g.Expect(events).NotTo(ContainElement(EventServiceSwitched))
		g.Expect(st.AbortReason).To(Equal(v1alpha1.ReasonHookFailed))
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorBlue))
		g.Expect(w.colors[v1alpha1.ColorGreen].DesiredReplicas).To(BeZero())
	})

	t.Run("a failed post-promotion analysis flips back to the old color", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		events := driveBG(g, spec, st, w, passed, failed, nil, func(st v1alpha1.BlueGreenStatus) bool {
			return st.AbortedAt != nil && w.colors[v1alpha1.ColorGreen].DesiredReplicas == 0
		})
		g.Expect(events).To(ContainElements(EventServiceSwitched, EventRolledBack, EventSwitchedBack))
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorBlue))
		g.Expect(st.ActiveRevision).To(Equal("v1"))
		g.Expect(findHook(st.Hooks, "page", "v2")).NotTo(BeNil())
	})

	t.Run("a manual release waits for promote, then switches", func(t *testing.T) {
		g := NewWithT(t)
		manual := spec
		manual.AutoPromotion = ptrTo(false)
		w, st := newBGWorld("v1"), &v1alpha1.BlueGreenStatus{}
		driveBG(g, manual, st, w, passed, passed, nil, activeAt("v1"))
		w.release("v2")
		driveBG(g, manual, st, w, passed, passed, nil, func(st v1alpha1.BlueGreenStatus) bool {
			return BlueGreenPhase(st) == v1alpha1.PhaseWaitingPromotion
		})
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorBlue))
		events := driveBG(g, manual, st, w, passed, passed, &PendingCommand{Name: v1alpha1.CommandPromote, ID: "p"},
			activeAt("v2"))
		g.Expect(events).To(ContainElements(EventCommandApplied, EventServiceSwitched, EventPromoted))
	})

	t.Run("an abort after the flip returns traffic to the old color", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		driveBG(g, spec, st, w, passed, v1alpha1.OutcomeNoData, nil, func(st v1alpha1.BlueGreenStatus) bool {
			return st.SwitchedAt != nil
		})
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorGreen))
		driveBG(g, spec, st, w, passed, v1alpha1.OutcomeNoData, &PendingCommand{Name: v1alpha1.CommandAbort, ID: "a"},
			func(st v1alpha1.BlueGreenStatus) bool { return st.AbortedAt != nil && st.SwitchedAt == nil })
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorBlue))
		g.Expect(st.AbortReason).To(Equal(v1alpha1.ReasonAborted))
	})

	t.Run("a crash before every third status patch replays to the same end", func(t *testing.T) {
		g := NewWithT(t)
		w, st := start(g)
		for i := 0; i < 400 && !activeAt("v2")(*st); i++ {
			obs := w.observe(*st)
			if BlueGreenAnalysisDue(spec, *st, w.now) {
				obs.Check = check(passed)
			}
			d := NextBlueGreen(spec, *st, obs)
			w.applyAll(d.Actions)
			w.settle()
			if i%3 != 2 {
				*st = d.Status
			}
			if st.PreviewRevision != "" {
				g.Expect(w.colors[v1alpha1.ColorBlue].DesiredReplicas).To(Equal(int32(3)), "old color scaled down mid-release")
			}
			w.now = w.now.Add(max(d.RequeueAfter, time.Second))
		}
		g.Expect(activeAt("v2")(*st)).To(BeTrue())
		g.Expect(w.service.Color).To(Equal(v1alpha1.ColorGreen))
	})
}
