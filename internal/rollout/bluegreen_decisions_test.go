package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestBlueGreenFailedChecksAreFinal(t *testing.T) {
	spec := bgSpec()
	spec.AutoPromotion = ptrTo(false)
	spec.PrePromotionAnalysis = phaseAnalysis(3)
	failedPre := bgReleasing(0)
	failedPre.Analysis = &v1alpha1.AnalysisStatus{Checks: 1, Failures: 1, LastCheckAt: stamp(time.Minute),
		Results: []v1alpha1.MetricResult{result(v1alpha1.OutcomeFailed, time.Minute)}}
	runBlueGreenCases(t, []blueGreenCase{{
		name: "refuse promote after a failed pre-promotion check without calling it still running",
		spec: spec, status: failedPre, obs: bgCommand(bgObserved(90*time.Second), v1alpha1.CommandPromote),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Status.LastCommand.Message).To(And(ContainSubstring("refused: pre-promotion 1 failed check"),
				ContainSubstring("--override-failed-analysis"), Not(ContainSubstring("still running")),
				Not(ContainSubstring("promote-full skips"))))
		},
	}, {
		name: "refuse promote-full after a failed pre-promotion check: no flip",
		spec: spec, status: failedPre, obs: bgCommand(bgObserved(90*time.Second), v1alpha1.CommandPromoteFull),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Actions).NotTo(ContainElement(SwitchService{Color: v1alpha1.ColorGreen}))
		},
	}, {
		name: "flip on promote-override, recorded with who gave it",
		spec: spec, status: failedPre, obs: func() BlueGreenObserved {
			o := bgObserved(90 * time.Second)
			o.Commands = []PendingCommand{{Name: v1alpha1.CommandPromoteOverride, ID: "1", By: "jane"}}
			return o
		}(),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.PromotingAt).NotTo(BeNil())
			g.Expect(d.Actions).To(ContainElement(SwitchService{Color: v1alpha1.ColorGreen}))
			g.Expect(d.Status.History[len(d.Status.History)-2].Message).To(And(
				ContainSubstring("promote-override command promote-override (by jane)"),
				ContainSubstring("overriding pre-promotion 1 failed check")))
		},
	}, {
		name: "say that no post-promotion checks are defined when a release succeeds without any",
		spec: spec, status: bgSwitched(0), obs: serving(bgObserved(time.Minute), v1alpha1.ColorGreen),
		expect: func(g Gomega, d BlueGreenDecision) {
			g.Expect(d.Status.ActiveColor).To(Equal(v1alpha1.ColorGreen))
			msg := d.Events[len(d.Events)-1].Message
			g.Expect(msg).To(ContainSubstring("no post-promotion checks are defined"))
			g.Expect(msg).NotTo(ContainSubstring("checks passed"))
		},
	}})
}
