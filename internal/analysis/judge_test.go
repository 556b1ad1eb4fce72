package analysis_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
)

func judgeReading(canaryRequests, canaryErrors, primaryRequests, primaryErrors int64) analysis.JudgeReading {
	return analysis.JudgeReading{
		Canary:  analysis.JudgeCounters{Requests: canaryRequests, Errors: canaryErrors},
		Primary: analysis.JudgeCounters{Requests: primaryRequests, Errors: primaryErrors},
	}
}

// feed evaluates readings in order, starting from no status.
func feed(t *testing.T, spec v1alpha1.Judge, readings ...analysis.JudgeReading) v1alpha1.JudgeStatus {
	t.Helper()
	var st *v1alpha1.JudgeStatus
	for _, r := range readings {
		next, err := analysis.EvaluateJudge(spec, st, r)
		if err != nil {
			t.Fatalf("EvaluateJudge(%+v): %v", r, err)
		}
		st = &next
	}
	return *st
}

func TestTheJudgeWaitsOnItsFirstReading(t *testing.T) {
	g := NewWithT(t)

	st := feed(t, v1alpha1.Judge{}, judgeReading(100, 50, 900, 0))

	g.Expect(st.Decision).To(Equal(v1alpha1.JudgeContinue))
	g.Expect(st.Threshold).To(Equal(20.0))
	g.Expect(st.Summary).To(Equal("canary error rate: waiting for new traffic on both versions"))
	g.Expect(st.Metrics).To(HaveLen(1))
	g.Expect(st.Metrics[0].Name).To(Equal(analysis.JudgeCounterErrors))
}

func TestTheJudgeRollsBackAClearRegressionAndSaysWhy(t *testing.T) {
	g := NewWithT(t)

	// One minute at 100 requests/s, 10% canary: 5% canary errors, 1% primary.
	st := feed(t, v1alpha1.Judge{Alpha: 0.05}, judgeReading(0, 0, 0, 0), judgeReading(600, 30, 5400, 54))

	g.Expect(st.Decision).To(Equal(v1alpha1.JudgeRollback))
	g.Expect(st.Summary).To(MatchRegexp(`^canary error rate 5\.0× primary \(5% vs 1%\); evidence [0-9.e+]+ of 20 needed$`))
	g.Expect(st.Metrics[0].RollbackEvidence).To(BeNumerically(">=", st.Threshold))
}

func TestARollbackIsFinal(t *testing.T) {
	g := NewWithT(t)
	spec := v1alpha1.Judge{}
	rolled := feed(t, spec, judgeReading(0, 0, 0, 0), judgeReading(600, 30, 5400, 54))

	next, err := analysis.EvaluateJudge(spec, &rolled, judgeReading(60000, 600, 540000, 5400))

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(next).To(Equal(rolled))
}

func TestAlphaIsSplitBetweenErrorsAndSlowRequests(t *testing.T) {
	g := NewWithT(t)
	spec := v1alpha1.Judge{Alpha: 0.05, SlowRequests: "slow"}
	r := analysis.JudgeReading{
		Canary:  analysis.JudgeCounters{Requests: 600, Errors: 6, SlowRequests: 60},
		Primary: analysis.JudgeCounters{Requests: 5400, Errors: 54, SlowRequests: 54},
	}

	st := feed(t, spec, analysis.JudgeReading{}, r)

	g.Expect(st.Threshold).To(Equal(40.0))
	g.Expect(st.Metrics).To(HaveLen(2))
	g.Expect(st.Metrics[1].Name).To(Equal(analysis.JudgeCounterSlowRequests))
	g.Expect(st.Decision).To(Equal(v1alpha1.JudgeRollback))
	g.Expect(st.Summary).To(ContainSubstring("canary error rate 1.0× primary"))
	g.Expect(st.Summary).To(ContainSubstring("; canary slow-request rate 10.0× primary"))
}

func TestPromoteNeedsPromoteOnEvidenceAndEvidenceOnEveryCounter(t *testing.T) {
	// Ten minutes at 1000 requests/s, 10% canary, both at 1% errors.
	readings := []analysis.JudgeReading{judgeReading(0, 0, 0, 0)}
	for i := int64(1); i <= 10; i++ {
		readings = append(readings, judgeReading(i*6000, i*60, i*54000, i*540))
	}
	cases := []struct {
		name string
		spec v1alpha1.Judge
		want v1alpha1.JudgeDecision
	}{
		{"without promoteOnEvidence", v1alpha1.Judge{}, v1alpha1.JudgeContinue},
		{"with promoteOnEvidence", v1alpha1.Judge{PromoteOnEvidence: true}, v1alpha1.JudgePromote},
		{"with a slow-request counter that has no evidence", v1alpha1.Judge{PromoteOnEvidence: true, SlowRequests: "slow"},
			v1alpha1.JudgeContinue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			st := feed(t, c.spec, readings...)
			g.Expect(st.Decision).To(Equal(c.want))
			g.Expect(st.Metrics[0].PromotionEvidence).To(BeNumerically(">=", st.Threshold))
		})
	}
}

func TestAnInvalidSpecOrReadingIsAnError(t *testing.T) {
	g := NewWithT(t)

	_, err := analysis.EvaluateJudge(v1alpha1.Judge{Mode: "Sometimes"}, nil, analysis.JudgeReading{})
	g.Expect(err).To(MatchError(ContainSubstring(`judge mode "Sometimes"`)))

	_, err = analysis.EvaluateJudge(v1alpha1.Judge{Alpha: 0.9}, nil, analysis.JudgeReading{})
	g.Expect(err).To(MatchError(ContainSubstring("alpha")))

	_, err = analysis.EvaluateJudge(v1alpha1.Judge{}, nil, judgeReading(-1, 0, 0, 0))
	g.Expect(err).To(MatchError(ContainSubstring("judge counter errors")))
}

// A restarted operator reads the status back from the API server as JSON
// and carries on: the result must be the same as if it had never stopped.
func TestContinuingFromAStatusRoundTrippedThroughJSONGivesIdenticalResults(t *testing.T) {
	for _, mode := range []v1alpha1.JudgeMode{v1alpha1.JudgePerRequest, v1alpha1.JudgePerInterval} {
		t.Run(string(mode), func(t *testing.T) {
			g := NewWithT(t)
			spec := v1alpha1.Judge{Alpha: 0.05, Tolerance: 1.2, Mode: mode, SlowRequests: "slow", PromoteOnEvidence: true}
			rng := rand.New(rand.NewPCG(11, 0))
			var cum analysis.JudgeReading
			var straight, restarted *v1alpha1.JudgeStatus
			for step := range 80 {
				cum = advance(rng, cum, step)
				a, err := analysis.EvaluateJudge(spec, straight, cum)
				g.Expect(err).NotTo(HaveOccurred())
				b, err := analysis.EvaluateJudge(spec, throughJSON(t, restarted), cum)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(throughJSON(t, &b)).To(Equal(throughJSON(t, &a)), "step %d", step)
				g.Expect(b.Metrics[0].LogRollback).To(Equal(a.Metrics[0].LogRollback), "step %d", step)
				straight, restarted = &a, &b
			}
			g.Expect(straight.Metrics[0].Observations).To(BeNumerically(">", 50), "%s", straight.Summary)
		})
	}
}

// advance adds a minute of traffic, with a canary counter reset now and then.
func advance(rng *rand.Rand, cum analysis.JudgeReading, step int) analysis.JudgeReading {
	if step%25 == 24 {
		cum.Canary = analysis.JudgeCounters{}
	}
	cr, pr := 500+rng.Int64N(200), 5000+rng.Int64N(1000)
	cum.Canary.Requests += cr
	cum.Canary.Errors += cr/120 + rng.Int64N(3)
	cum.Canary.SlowRequests += cr/25 + rng.Int64N(5)
	cum.Primary.Requests += pr
	cum.Primary.Errors += pr/100 + rng.Int64N(10)
	cum.Primary.SlowRequests += pr/20 + rng.Int64N(10)
	return cum
}

func throughJSON(t *testing.T, st *v1alpha1.JudgeStatus) *v1alpha1.JudgeStatus {
	t.Helper()
	if st == nil {
		return nil
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out v1alpha1.JudgeStatus
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// BenchmarkEvaluateJudge is the cost of one reading through the operator's
// entry point, with errors and slow requests.
func BenchmarkEvaluateJudge(b *testing.B) {
	spec := v1alpha1.Judge{SlowRequests: "slow"}
	st, err := analysis.EvaluateJudge(spec, nil, analysis.JudgeReading{})
	if err != nil {
		b.Fatal(err)
	}
	var cum analysis.JudgeReading
	b.ReportAllocs()
	for b.Loop() {
		cum.Canary = analysis.JudgeCounters{Requests: cum.Canary.Requests + 600, Errors: cum.Canary.Errors + 6,
			SlowRequests: cum.Canary.SlowRequests + 30}
		cum.Primary = analysis.JudgeCounters{Requests: cum.Primary.Requests + 5400, Errors: cum.Primary.Errors + 54,
			SlowRequests: cum.Primary.SlowRequests + 270}
		if st, err = analysis.EvaluateJudge(spec, &st, cum); err != nil {
			b.Fatal(err)
		}
	}
}
