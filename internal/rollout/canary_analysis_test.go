package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestCanaryAnalysis(t *testing.T) {
	spec := analysed(canarySpec(weightStep(10), weightStep(50)))
	withCheck := func(d time.Duration, w int32, c *Check) CanaryObserved {
		o := observed(d, w)
		o.Check = c
		return o
	}
	passedAt := func(d time.Duration, failures int32) v1alpha1.AnalysisStatus {
		return v1alpha1.AnalysisStatus{Checks: 1, Failures: failures, LastCheckAt: stamp(d),
			Results: []v1alpha1.MetricResult{result(v1alpha1.OutcomePassed, d)}}
	}
	judge := judged(spec, false)
	evidence := spec
	evidence.Analysis = spec.Analysis.DeepCopy()
	evidence.Analysis.Judge = &v1alpha1.Judge{Requests: "r", Errors: "e", PromoteOnEvidence: true}
	runCanaryCases(t, []canaryCase{{
		name: "schedule the first check one interval after the step's clock started",
		spec: spec, status: releasing(0, -1), obs: observed(0, 10),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.StepStartedAt).To(Equal(stamp(0)))
			g.Expect(AnalysisDue(spec, d.Status, at(59*time.Second))).To(BeFalse())
			g.Expect(AnalysisDue(spec, d.Status, at(time.Minute))).To(BeTrue())
			g.Expect(d.RequeueAfter).To(Equal(time.Minute))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonAnalysing))
		},
	}, {
		name: "advance after a passing check a full interval into the step",
		spec: spec, status: releasing(0, 0), obs: withCheck(time.Minute, 10, check(v1alpha1.OutcomePassed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Checks).To(Equal(int32(1)))
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 50}}))
		},
	}, {
		name: "not advance on a passing check taken before a full interval at the step's weight",
		spec: spec, status: checked(releasing(1, 90*time.Second), passedAt(time.Minute, 0)),
		obs: withCheck(2*time.Minute, 50, check(v1alpha1.OutcomePassed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Checks).To(Equal(int32(2)))
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.RequeueAfter).To(Equal(time.Minute))
		},
	}, {
		name: "ignore a check that was not due, so a replayed check is never counted twice",
		spec: spec, status: checked(releasing(0, 0), passedAt(time.Minute, 0)),
		obs: withCheck(90*time.Second, 10, check(v1alpha1.OutcomeFailed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Checks).To(Equal(int32(1)))
			g.Expect(d.Status.Analysis.Failures).To(BeZero())
		},
	}, {
		name: "count a failed check, warn, and hold the step",
		spec: spec, status: releasing(0, 0), obs: withCheck(time.Minute, 10, check(v1alpha1.OutcomeFailed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Failures).To(Equal(int32(1)))
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventAnalysisFailed}))
			g.Expect(d.Events[0].Type).To(Equal(EventWarning))
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "roll back at once when failed checks reach failureLimit",
		spec: spec, status: checked(releasing(1, time.Minute), passedAt(time.Minute, 1)),
		obs: withCheck(2*time.Minute, 50, check(v1alpha1.OutcomeFailed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(Equal(stamp(2 * time.Minute)))
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}), "the canary keeps its pods until drained")
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventAnalysisFailed, EventRolledBack}))
			g.Expect(d.Status.History[len(d.Status.History)-1].Message).To(ContainSubstring("failures 2/2"))
			g.Expect(d.Status.Phase).To(Equal(v1alpha1.PhaseRolledBack))
		},
	}, {
		name: "hold without counting a failure when the check has no data",
		spec: spec, status: releasing(0, 0), obs: withCheck(time.Minute, 10, check(v1alpha1.OutcomeNoData)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Failures).To(BeZero())
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.Events).To(BeEmpty())
		},
	}, {
		name: "hold on a provider error below errorLimit",
		spec: spec, status: releasing(0, 0), obs: withCheck(time.Minute, 10, check(v1alpha1.OutcomeError)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.ConsecutiveErrors).To(Equal(int32(1)))
			g.Expect(d.Status.PausedAt).To(BeNil())
			g.Expect(d.Status.CurrentStep).To(BeZero())
		},
	}, {
		name: "pause, never roll back, and say why when provider errors reach errorLimit",
		spec: spec, status: checked(releasing(0, 0), v1alpha1.AnalysisStatus{Checks: 2, ConsecutiveErrors: 2,
			LastCheckAt: stamp(time.Minute), Results: []v1alpha1.MetricResult{result(v1alpha1.OutcomeError, 0)}}),
		obs: withCheck(2*time.Minute, 10, check(v1alpha1.OutcomeError)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PausedAt).To(Equal(stamp(2 * time.Minute)))
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Actions).To(BeEmpty())
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventProviderUnavailable}))
			g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonProviderUnavailable))
			g.Expect(AnalysisDue(spec, d.Status, at(time.Hour))).To(BeFalse())
			g.Expect(d.RequeueAfter).To(BeZero())
		},
	}, {
		name: "roll back on the judge's Rollback verdict",
		spec: judge, status: releasing(0, 0), obs: withCheck(time.Minute, 10, &Check{
			Judge: func() *v1alpha1.JudgeStatus {
				j := judgeStatus(judge.Analysis, v1alpha1.JudgeRollback)
				j.Summary = "canary error rate 3x primary"
				return j
			}()}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(d.Status.Analysis.Judge.Decision).To(Equal(v1alpha1.JudgeRollback))
			g.Expect(d.Events[len(d.Events)-1].Message).To(ContainSubstring("canary error rate 3x primary"))
		},
	}, {
		name: "end a step early on the judge's Promote verdict with promoteOnEvidence",
		spec: evidence, status: checked(releasing(0, 30*time.Second), passedAt(10*time.Second, 0)),
		obs: withCheck(70*time.Second, 10, &Check{Results: check(v1alpha1.OutcomePassed).Results,
			Judge: judgeStatus(evidence.Analysis, v1alpha1.JudgePromote)}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		},
	}, {
		name: "not end a step early on the judge's Promote verdict without promoteOnEvidence",
		spec: judge, status: checked(releasing(0, 30*time.Second), passedAt(10*time.Second, 0)),
		obs: withCheck(70*time.Second, 10, &Check{Results: check(v1alpha1.OutcomePassed).Results,
			Judge: judgeStatus(judge.Analysis, v1alpha1.JudgePromote)}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(BeZero())
			g.Expect(d.RequeueAfter).To(Equal(time.Minute))
		},
	}, {
		name: "not promote while the last check had no data, even after every step",
		spec: spec, status: checked(releasing(1, time.Minute), passedAt(time.Minute, 0)),
		obs: withCheck(2*time.Minute, 50, check(v1alpha1.OutcomeNoData)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		},
	}, {
		name: "promote after the last step once its check passed",
		spec: spec, status: checked(releasing(1, time.Minute), passedAt(time.Minute, 1)),
		obs: withCheck(2*time.Minute, 50, check(v1alpha1.OutcomePassed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(2 * time.Minute)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 100}}))
		},
	}, {
		name:   "keep checking during a pause step, where a failure still rolls back",
		spec:   analysed(canarySpec(weightStep(10), pauseStep(time.Hour))),
		status: checked(releasing(1, time.Minute), passedAt(time.Minute, 1)),
		obs:    withCheck(2*time.Minute, 10, check(v1alpha1.OutcomeFailed)),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
		},
	}})
}
