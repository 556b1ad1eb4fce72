package cli

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// twoCounters is a judge's status on errors and slow requests, alpha 0.05
// split between them.
func twoCounters(decision v1alpha1.JudgeDecision) *v1alpha1.JudgeStatus {
	return &v1alpha1.JudgeStatus{Decision: decision, Threshold: 40, Metrics: []v1alpha1.JudgeMetricStatus{
		{Name: "errors", Observations: 6, RollbackEvidence: 52, PromotionEvidence: 0.01,
			Canary: v1alpha1.CounterSample{Requests: 3000, Events: 150}, Primary: v1alpha1.CounterSample{Requests: 27000, Events: 270}},
		{Name: "slowRequests", Observations: 6, RollbackEvidence: 0.8, PromotionEvidence: 3.5,
			Canary: v1alpha1.CounterSample{Requests: 3000, Events: 30}, Primary: v1alpha1.CounterSample{Requests: 27000}},
	}}
}

func TestJudgeBrief(t *testing.T) {
	promoting := &v1alpha1.Judge{PromoteOnEvidence: true}
	for _, tc := range []struct {
		name string
		spec *v1alpha1.Judge
		st   *v1alpha1.JudgeStatus
		want string
	}{
		{"the strongest evidence for a rollback against the threshold", nil, twoCounters(v1alpha1.JudgeRollback),
			"judge rollback e=52/40"},
		{"and the weakest for a promotion when the judge may promote", promoting, twoCounters(v1alpha1.JudgeContinue),
			"judge continue e=52/40 promote-e=0.01/40"},
		{"the decision alone before any evidence", nil, &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeContinue, Threshold: 20},
			"judge continue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(judgeBrief(tc.spec, tc.st)).To(Equal(tc.want))
		})
	}
}

func TestJudgeEvidenceHasALinePerCounter(t *testing.T) {
	g := NewWithT(t)
	var b strings.Builder
	judgeEvidence(&b, "  ", &v1alpha1.Judge{PromoteOnEvidence: true}, twoCounters(v1alpha1.JudgeRollback))
	g.Expect(b.String()).To(Equal("" +
		"  errors        rollback e=52 of 40   promote e=0.01 of 40  canary 150/3000 (5%)  primary 270/27000 (1%)  6 observations\n" +
		"  slowRequests  rollback e=0.8 of 40  promote e=3.5 of 40   canary 30/3000 (1%)   primary 0/27000 (0%)    6 observations\n"))
}

func TestEvidenceAndCountsAreBrief(t *testing.T) {
	g := NewWithT(t)
	g.Expect([]string{evidence(0.4213), evidence(3.14), evidence(38.4), evidence(1.23e8)}).
		To(Equal([]string{"0.42", "3.1", "38", "1.2e+08"}))
	g.Expect([]string{counts(v1alpha1.CounterSample{Requests: 4000, Events: 12}), counts(v1alpha1.CounterSample{Requests: 80, Events: 40}),
		counts(v1alpha1.CounterSample{})}).To(Equal([]string{"12/4000 (0.3%)", "40/80 (50%)", "0/0"}))
}
