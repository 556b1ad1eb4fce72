package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestCanaryProgressOf(t *testing.T) {
	steps := []v1alpha1.CanaryStep{weightStep(10), pauseStep(time.Minute), {Pause: &v1alpha1.Pause{}}}
	for _, tc := range []struct {
		name string
		st   v1alpha1.CanaryStatus
		want CanaryProgress
	}{
		{name: "nothing while no release is in flight", st: stable(), want: CanaryProgress{}},
		{name: "a weight step, counted from one", st: releasing(0, 0),
			want: CanaryProgress{InFlight: true, Step: 1, Steps: 3, What: "setWeight 10"}},
		{name: "a timed pause", st: releasing(1, 0),
			want: CanaryProgress{InFlight: true, Step: 2, Steps: 3, What: "pause 1m0s"}},
		{name: "a pause until promoted", st: releasing(2, 0),
			want: CanaryProgress{InFlight: true, Step: 3, Steps: 3, What: "pause until promoted"}},
		{name: "done once every step passed", st: releasing(3, -1),
			want: CanaryProgress{InFlight: true, Step: 3, Steps: 3, Done: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(CanaryProgressOf(steps, tc.st)).To(Equal(tc.want))
		})
	}
}

func TestBlueGreenStageOf(t *testing.T) {
	with := func(f func(st *v1alpha1.BlueGreenStatus)) v1alpha1.BlueGreenStatus {
		st := bgReleasing(-1)
		f(&st)
		return st
	}
	for _, tc := range []struct {
		name string
		st   v1alpha1.BlueGreenStatus
		want BlueGreenStage
	}{
		{name: "none at rest", st: bgStable(), want: StageNone},
		{name: "starting the preview", st: bgReleasing(-1), want: StageStartingPreview},
		{name: "pre-promotion once the new color is ready", st: bgReleasing(0), want: StagePrePromotion},
		{name: "awaiting a promote once the checks passed", st: with(func(st *v1alpha1.BlueGreenStatus) {
			st.PreviewReadyAt, st.PrePromotionPassedAt = stamp(0), stamp(0)
		}), want: StageAwaitingPromote},
		{name: "switching once promoting", st: with(func(st *v1alpha1.BlueGreenStatus) {
			st.PreviewReadyAt, st.PrePromotionPassedAt, st.PromotingAt = stamp(0), stamp(0), stamp(0)
		}), want: StageSwitching},
		{name: "post-promotion once switched", st: bgSwitched(0), want: StagePostPromotion},
		{name: "rolled back over everything else", st: with(func(st *v1alpha1.BlueGreenStatus) {
			st.SwitchedAt, st.AbortedAt = stamp(0), stamp(0)
		}), want: StageRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(BlueGreenStageOf(tc.st)).To(Equal(tc.want))
		})
	}
}

// TestBlueGreenStagesInOrder: a manual release driven from start to success
// goes through every stage but the rollback, in the order BlueGreenStages
// gives.
func TestBlueGreenStagesInOrder(t *testing.T) {
	g := NewWithT(t)
	rank := map[BlueGreenStage]int{}
	for i, s := range BlueGreenStages {
		rank[s] = i
	}
	g.Expect(rank).To(HaveLen(len(BlueGreenStages)), "a stage listed twice")
	spec := bgSpec()
	spec.AutoPromotion = ptrTo(false)
	spec.PrePromotionAnalysis, spec.PostPromotionAnalysis = phaseAnalysis(2), phaseAnalysis(2)
	passed := v1alpha1.OutcomePassed
	w, st := newBGWorld("v1"), &v1alpha1.BlueGreenStatus{}
	driveBG(g, spec, st, w, passed, passed, nil, activeAt("v1"))
	w.release("v2")
	var seen []BlueGreenStage
	record := func(done func(v1alpha1.BlueGreenStatus) bool) func(v1alpha1.BlueGreenStatus) bool {
		return func(st v1alpha1.BlueGreenStatus) bool {
			if s := BlueGreenStageOf(st); s != StageNone && (len(seen) == 0 || seen[len(seen)-1] != s) {
				seen = append(seen, s)
			}
			return done(st)
		}
	}
	driveBG(g, spec, st, w, passed, passed, nil, record(func(st v1alpha1.BlueGreenStatus) bool {
		return BlueGreenPhase(st) == v1alpha1.PhaseWaitingPromotion
	}))
	driveBG(g, spec, st, w, passed, passed, &PendingCommand{Name: v1alpha1.CommandPromote, ID: "p"},
		record(activeAt("v2")))
	g.Expect(seen).To(Equal([]BlueGreenStage{StageStartingPreview, StagePrePromotion, StageAwaitingPromote,
		StageSwitching, StagePostPromotion}))
	for i := 1; i < len(seen); i++ {
		g.Expect(rank[seen[i]]).To(BeNumerically(">", rank[seen[i-1]]), "%s after %s", seen[i], seen[i-1])
	}
}
