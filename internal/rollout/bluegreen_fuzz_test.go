package rollout

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// fuzzBGSpec builds a spec the API server would accept.
func fuzzBGSpec(s *byteSource) v1alpha1.BlueGreenSpec {
	spec := bgSpec()
	spec.ProgressDeadlineSeconds = int32(30 + s.intn(256)*4)
	spec.ScaleDownDelay.Duration = time.Duration(s.intn(120)) * time.Second
	if s.chance(40) {
		spec.AutoPromotion = ptrTo(false)
		if s.chance(50) {
			spec.AutoPromotionSeconds = ptrTo(int32(s.intn(600)))
		}
	}
	for _, p := range []**v1alpha1.PhaseAnalysis{&spec.PrePromotionAnalysis, &spec.PostPromotionAnalysis} {
		if s.chance(60) {
			a := phaseAnalysis(int32(1 + s.intn(4)))
			fuzzAnalysis(s, &a.Analysis, 40)
			*p = a
		}
	}
	for _, typ := range []v1alpha1.BlueGreenHookType{v1alpha1.HookPrePromotion, v1alpha1.HookPostPromotion,
		v1alpha1.HookBlueGreenBack} {
		if s.chance(30) {
			spec.Hooks = append(spec.Hooks, bgHook(string(typ)+"-hook", typ))
		}
	}
	return spec
}

// fuzzBGWorld changes the world at random: new revisions, reverts, pods
// becoming ready or failing, hooks finishing; it returns a command or nil.
func fuzzBGWorld(s *byteSource, w *bgWorld, st v1alpha1.BlueGreenStatus, round int) {
	fuzzRelease(s, w.release, 4, round, st.ActiveRevision)
	for _, c := range w.colors {
		switch {
		case s.chance(60):
			c.ReadyReplicas = c.DesiredReplicas
		case s.chance(8):
			c.ReadyReplicas = 0
		}
	}
	w.hooks = fuzzHookPhase(s)
	if s.chance(8) {
		if w.annotations == nil {
			w.annotations = map[string]string{}
		}
		w.annotations[v1alpha1.CommandAnnotation(fuzzCommand(s))] = fmt.Sprint(round)
	}
}

// fuzzPhaseCheck is a random check for a due analysis.
func fuzzPhaseCheck(s *byteSource, a *v1alpha1.Analysis, now time.Time) *Check {
	c := &Check{Results: []v1alpha1.MetricResult{{Name: "m", Outcome: fuzzOutcome(s), Time: metav1.NewTime(now)}}}
	if a.Judge != nil {
		decisions := []v1alpha1.JudgeDecision{v1alpha1.JudgeContinue, v1alpha1.JudgeContinue, v1alpha1.JudgeRollback}
		c.Judge = judgeStatus(a, decisions[s.intn(len(decisions))])
	}
	return c
}

// checkBGInvariants checks one reconcile's decision against its input.
func checkBGInvariants(g Gomega, spec v1alpha1.BlueGreenSpec, cur v1alpha1.BlueGreenStatus, obs BlueGreenObserved,
	d BlueGreenDecision) {
	st := d.Status
	color := func(c v1alpha1.Color) WorkloadState {
		if c == v1alpha1.ColorGreen {
			return obs.Green
		}
		return obs.Blue
	}
	live := obs.ActiveService.Color
	for _, a := range d.Actions {
		switch a := a.(type) {
		case SwitchService:
			w := color(a.Color)
			want := st.PreviewRevision
			switch {
			case st.ActiveRevision == "":
				want = obs.Target.Revision
			case a.Color == st.ActiveColor:
				want = st.ActiveRevision
			}
			g.Expect(w.ReadyReplicas).To(BeNumerically(">", 0), "switch to %s with no ready pod", a.Color)
			g.Expect(w.Revision).To(Equal(want), "switch to %s not at its revision", a.Color)
			if st.ActiveRevision != "" && (st.AbortedAt != nil || !blueGreenInFlight(st)) {
				g.Expect(a.Color).To(Equal(st.ActiveColor), "switch away from the old color after a failure")
			}
		case ScaleColor:
			g.Expect(a.Color).NotTo(Equal(live), "scaled down the color that serves")
			if blueGreenInFlight(st) {
				g.Expect(a.Color).NotTo(Equal(st.ActiveColor), "old color scaled down before the release succeeded")
			}
		case EnsureColor:
			if st.ActiveRevision != "" {
				g.Expect(a.Color == live && color(a.Color).Revision != a.Revision).To(BeFalse(),
					"replaced the template of the color that serves")
			}
		}
	}
	if st.ActiveRevision != cur.ActiveRevision && cur.ActiveRevision != "" {
		g.Expect(eventReasons(d.Events)).To(ContainElement(EventPromoted), "active revision changed without a promotion")
	}
	// A failed check is final: only promote-override skips checks after one.
	if cur.Analysis != nil && cur.Analysis.Failures > 0 && cur.PreviewRevision == st.PreviewRevision {
		for _, e := range d.Events {
			g.Expect(e.Reason == EventCommandApplied && strings.HasPrefix(e.Message, string(v1alpha1.CommandPromoteFull))).
				To(BeFalse(), "promote-full skipped checks after a failed check: %v", d.Events)
		}
	}
	if st.AbortedAt != nil && blueGreenInFlight(st) && live != st.ActiveColor &&
		color(st.ActiveColor).Revision == st.ActiveRevision && color(st.ActiveColor).ReadyReplicas > 0 {
		g.Expect(d.Actions).To(ContainElement(SwitchService{Color: st.ActiveColor}), "no flip back after a failure")
	}
	g.Expect(len(st.History)).To(BeNumerically("<=", v1alpha1.MaxDecisionRecords))
	g.Expect(st.Conditions).To(HaveLen(4))
	expectBlueGreenReplaySafe(g, spec, d, obs)
}

// FuzzBlueGreen drives random valid specs through random observation
// sequences (new revisions, reverts, commands, lost writes, crashes before
// the status patch, random checks and hook results) and checks the
// invariants on every reconcile.
func FuzzBlueGreen(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a blue-green release with checks before and after the flip"))
	f.Add([]byte{9, 1, 200, 3, 77, 10, 10, 255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(fuzzBlueGreenBody)
}

// fuzzBlueGreenBody is one FuzzBlueGreen run.
func fuzzBlueGreenBody(t *testing.T, data []byte) {
	g := NewWithT(t)
	s := &byteSource{data: data}
	spec := fuzzBGSpec(s)
	w, st := newBGWorld("r0"), v1alpha1.BlueGreenStatus{}
	for round := 1; round <= 60; round++ {
		fuzzBGWorld(s, w, st, round)
		obs := w.observe(st)
		obs.Commands = CommandsFromAnnotations(w.annotations)
		if BlueGreenAnalysisDue(spec, st, w.now) && s.chance(85) {
			obs.Check = fuzzPhaseCheck(s, BlueGreenAnalysis(spec, st), w.now)
		}
		d := NextBlueGreen(spec, st, obs)
		checkBGInvariants(g, spec, st, obs, d)
		for _, a := range d.Actions {
			if !s.chance(85) {
				continue // the write is lost
			}
			if w.apply(a) != nil {
				break
			}
		}
		if !s.chance(10) { // else the operator dies before its status patch
			st = d.Status
		}
		w.now = w.now.Add(fuzzNextLook(s, d.RequeueAfter))
	}
}
