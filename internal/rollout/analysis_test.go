package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestApplyCheck(t *testing.T) {
	spec := analysed(canarySpec(weightStep(10))).Analysis
	now := metav1.NewTime(at(time.Minute))
	cases := []struct {
		name         string
		cur          *v1alpha1.AnalysisStatus
		check        Check
		failures     int32
		errors       int32
		verdictAfter Verdict
	}{
		{name: "count a passing check and nothing else", check: *check(v1alpha1.OutcomePassed),
			verdictAfter: VerdictPass},
		{name: "count one failure for a check however many metrics failed",
			check: *check(v1alpha1.OutcomeFailed, v1alpha1.OutcomeFailed), failures: 1, verdictAfter: VerdictFail},
		{name: "roll back when failures reach failureLimit",
			cur: &v1alpha1.AnalysisStatus{Checks: 3, Failures: 1}, check: *check(v1alpha1.OutcomeFailed),
			failures: 2, verdictAfter: VerdictRollback},
		{name: "hold on no data without counting a failure",
			cur: &v1alpha1.AnalysisStatus{Failures: 1, ConsecutiveErrors: 2}, check: *check(v1alpha1.OutcomeNoData),
			failures: 1, verdictAfter: VerdictHold},
		{name: "hold on a provider error and count it in a row",
			cur: &v1alpha1.AnalysisStatus{ConsecutiveErrors: 1}, check: *check(v1alpha1.OutcomePassed, v1alpha1.OutcomeError),
			errors: 2, verdictAfter: VerdictHold},
		{name: "pause when provider errors in a row reach errorLimit",
			cur: &v1alpha1.AnalysisStatus{ConsecutiveErrors: 2}, check: *check(v1alpha1.OutcomeError),
			errors: 3, verdictAfter: VerdictPause},
		{name: "count a failure even when another metric's provider failed",
			check: *check(v1alpha1.OutcomeFailed, v1alpha1.OutcomeError), failures: 1, errors: 1, verdictAfter: VerdictFail},
		{name: "treat a check that measured nothing as no data", check: Check{}, verdictAfter: VerdictHold},
		{name: "roll back on the judge's Rollback verdict even when every threshold passed, counting a failure",
			check: Check{Results: check(v1alpha1.OutcomePassed).Results,
				Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeRollback}}, failures: 1, verdictAfter: VerdictRollback},
		{name: "pass on the judge's Promote verdict without promoteOnEvidence",
			check: Check{Results: check(v1alpha1.OutcomePassed).Results,
				Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgePromote}}, verdictAfter: VerdictPass},
		{name: "hold on a judge-only check that reports no result: it measured nothing",
			check: Check{Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeContinue}}, verdictAfter: VerdictHold},
		{name: "hold on a judge-only check whose reading had no data",
			check: Check{Results: []v1alpha1.MetricResult{{Name: "judge", Outcome: v1alpha1.OutcomeNoData}},
				Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeContinue}}, verdictAfter: VerdictHold},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			var before *v1alpha1.AnalysisStatus
			checks := int32(0)
			if c.cur != nil {
				before, checks = c.cur.DeepCopy(), c.cur.Checks
			}
			got := applyCheck(c.cur, c.check, now)
			g.Expect(c.cur).To(Equal(before), "input modified")
			g.Expect(got.Failures).To(Equal(c.failures))
			g.Expect(got.ConsecutiveErrors).To(Equal(c.errors))
			g.Expect(got.LastCheckAt).To(Equal(&now))
			g.Expect(got.Checks).To(Equal(checks + 1))
			g.Expect(verdict(spec, got)).To(Equal(c.verdictAfter))
		})
	}
}

func TestVerdictWithPromoteOnEvidence(t *testing.T) {
	g := NewWithT(t)
	a := analysed(canarySpec(weightStep(10))).Analysis
	a.Judge = &v1alpha1.Judge{Requests: "r", Errors: "e", PromoteOnEvidence: true}
	st := applyCheck(nil, Check{Results: check(v1alpha1.OutcomePassed).Results,
		Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgePromote}}, metav1.NewTime(t0))
	g.Expect(verdict(a, st)).To(Equal(VerdictPromote))
	st = applyCheck(st, Check{Results: check(v1alpha1.OutcomeNoData).Results,
		Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgePromote}}, metav1.NewTime(t0))
	g.Expect(verdict(a, st)).To(Equal(VerdictHold), "no data never promotes, whatever the judge says")
}

func TestApplyCheckKeepsOneResultPerName(t *testing.T) {
	g := NewWithT(t)
	c := Check{Results: []v1alpha1.MetricResult{result(v1alpha1.OutcomeFailed, 0), result(v1alpha1.OutcomePassed, 0)}}
	got := applyCheck(nil, c, metav1.NewTime(t0))
	g.Expect(got.Results).To(HaveLen(1))
	g.Expect(got.Results[0].Outcome).To(Equal(v1alpha1.OutcomePassed))
}

func TestAppendRecordKeepsTheNewest(t *testing.T) {
	g := NewWithT(t)
	var h []v1alpha1.DecisionRecord
	for i := range v1alpha1.MaxDecisionRecords + 3 {
		h = appendRecord(h, v1alpha1.DecisionRecord{Step: int32(i)})
	}
	g.Expect(h).To(HaveLen(v1alpha1.MaxDecisionRecords))
	g.Expect(h[0].Step).To(Equal(int32(3)))
	g.Expect(h[len(h)-1].Step).To(Equal(int32(v1alpha1.MaxDecisionRecords + 2)))
}
