package sequential

import (
	"math"
	"testing"

	. "github.com/onsi/gomega"
)

func mustNew(t testing.TB, cfg Config) *Test {
	t.Helper()
	test, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return test
}

// observeAll feeds readings in order and returns the final state.
func observeAll(t testing.TB, test *Test, readings ...Reading) State {
	t.Helper()
	var s State
	for _, r := range readings {
		var err error
		if s, err = test.Observe(s, r); err != nil {
			t.Fatalf("Observe(%+v): %v", r, err)
		}
	}
	return s
}

func reading(canaryRequests, canaryEvents, primaryRequests, primaryEvents int64) Reading {
	return Reading{
		Canary:  Counts{Requests: canaryRequests, Events: canaryEvents},
		Primary: Counts{Requests: primaryRequests, Events: primaryEvents},
	}
}

func TestTheFirstReadingIsOnlyABaseline(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})

	s := observeAll(t, test, reading(1000, 500, 1000, 0))

	g.Expect(s.LastCanary).To(Equal(&Counts{Requests: 1000, Events: 500}))
	g.Expect(s.Observations).To(BeZero())
	g.Expect(s.LogRollback).To(BeEmpty())
	g.Expect(test.RollbackEvidence(s)).To(Equal(1.0))
	g.Expect(test.PromotionEvidence(s)).To(Equal(1.0))
}

func TestPerRequestLogLikelihoodRatiosMatchHandComputedValues(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})
	g.Expect(test.RollbackAlternatives()).To(Equal([]float64{1.2, 1.5, 2, 2.5, 3, 4, 6, 10}))

	// Equal traffic (q = 1/2, θ₀ = 1/2), 3 canary and 1 primary errors.
	// ψ = 2:   θ = 2/3,     3·ln(4/3) + ln(2/3)         = 0.4575811
	// ψ = 1.2: θ = 1.2/2.2, 3·ln(2.4/2.2) + ln(2/2.2)   = 0.1657240
	s := observeAll(t, test, reading(0, 0, 0, 0), reading(100, 3, 100, 1))

	g.Expect(s.Observations).To(Equal(int32(1)))
	g.Expect(s.LogRollback[2]).To(BeNumerically("~", 0.4575811, 1e-7))
	g.Expect(s.LogRollback[0]).To(BeNumerically("~", 0.1657240, 1e-7))
	var mean float64
	for _, l := range s.LogRollback {
		mean += math.Exp(l) / float64(len(s.LogRollback))
	}
	g.Expect(test.RollbackEvidence(s)).To(BeNumerically("~", mean, 1e-12))
}

func TestPromotionRatiosAreTakenAgainstTwiceTheTolerance(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})
	g.Expect(test.PromotionAlternatives()).To(Equal([]float64{1, 0.8, 0.6, 0.4}))

	// q = 1/2, null ψ₁ = 2 (θ₁ = 2/3), alternative ψ = 1 (θ = 1/2);
	// 1 canary and 3 primary errors: ln((1/2)/(2/3)) + 3·ln((1/2)/(1/3)) = 0.9287132
	s := observeAll(t, test, reading(0, 0, 0, 0), reading(100, 1, 100, 3))

	g.Expect(s.LogPromotion[0]).To(BeNumerically("~", 0.9287132, 1e-7))
}

func TestPerIntervalEvidenceAfterThreeWorseIntervalsIsTheMeanOfTheCubedCoinRatios(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1, Mode: PerInterval})

	// Each interval: q = 1/2, 10 events, median of binomial(10, 1/2) is 5,
	// and the canary has 8 of them: a "worse" interval.
	s := observeAll(t, test,
		reading(0, 0, 0, 0), reading(100, 8, 100, 2), reading(200, 16, 200, 4), reading(300, 24, 300, 6))

	// mean over a ∈ {.6,.7,.8,.9,.95} of (2a)³ = (1.728+2.744+4.096+5.832+6.859)/5
	g.Expect(test.RollbackEvidence(s)).To(BeNumerically("~", 4.2518, 1e-9))
	// The primary never had more than its median share under ψ₁ = 2.
	g.Expect(s.LogPromotion[0]).To(BeNumerically("~", 3*math.Log(0.8), 1e-12))
}

func TestTheBinomialMedianMatchesHandComputedCDFs(t *testing.T) {
	cases := []struct {
		n    int64
		p    float64
		want float64
	}{
		{n: 15, p: 0.1, want: 1}, // P(X ≤ 1) = 0.549
		{n: 20, p: 0.1, want: 2}, // np is a whole number
		{n: 9, p: 0.5, want: 4},  // P(X ≤ 4) = 1/2 exactly
		{n: 12, p: 0.3, want: 4}, // P(X ≤ 3) = 0.4925
		{n: 1, p: 0.5, want: 0},  // P(X ≤ 0) = 1/2
		{n: 1000, p: 0.0913, want: 91},
		{n: 0, p: 0.3, want: 0},
		{n: 1 << 40, p: 0.3, want: math.Ceil(float64(int64(1)<<40) * 0.3)},
	}
	for _, c := range cases {
		g := NewWithT(t)
		g.Expect(binomialMedian(c.n, c.p)).To(Equal(c.want), "n=%d p=%v", c.n, c.p)
	}
}

func TestACounterResetCountsTheNewReadingAsWhatHappenedSinceTheReset(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})

	// The canary's pods restarted: its counters fell from 1000/10 to 50/3.
	afterReset := observeAll(t, test, reading(1000, 10, 9000, 90), reading(50, 3, 9500, 95))
	// The same as if the canary had counted from zero.
	fromZero := observeAll(t, test, reading(0, 0, 9000, 90), reading(50, 3, 9500, 95))

	g.Expect(afterReset.Canary).To(Equal(Counts{Requests: 50, Events: 3}))
	g.Expect(afterReset.LogRollback).To(Equal(fromZero.LogRollback))
	g.Expect(afterReset.LastCanary).To(Equal(&Counts{Requests: 50, Events: 3}))

	// A reset of the event counter alone is a reset too, never a negative delta.
	eventsOnly := observeAll(t, test, reading(1000, 10, 9000, 90), reading(1100, 2, 9500, 95))
	g.Expect(eventsOnly.Canary).To(Equal(Counts{Requests: 1100, Events: 2}))
}

func TestObserveDoesNotChangeTheStateItIsGiven(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})
	s := observeAll(t, test, reading(0, 0, 0, 0), reading(100, 3, 900, 9))
	before := append([]float64(nil), s.LogRollback...)

	_, err := test.Observe(s, reading(200, 9, 1800, 18))

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.LogRollback).To(Equal(before))
}

func TestAReadingWithoutNewTrafficOnOneVersionAddsNoEvidence(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})

	s := observeAll(t, test, reading(0, 0, 0, 0), reading(0, 0, 900, 9), reading(0, 0, 1800, 30))

	g.Expect(s.Observations).To(BeZero())
	g.Expect(test.RollbackEvidence(s)).To(Equal(1.0))
	g.Expect(s.Primary).To(Equal(Counts{Requests: 1800, Events: 30}))
}

func TestInvalidInputsAreRefused(t *testing.T) {
	g := NewWithT(t)
	for _, cfg := range []Config{
		{Alpha: 0, Tolerance: 1},
		{Alpha: 1, Tolerance: 1},
		{Alpha: 0.05, Tolerance: 0},
		{Alpha: 0.05, Tolerance: math.Inf(1)},
		{Alpha: 0.05, Tolerance: 2, Regression: 1.5},
		{Alpha: 0.05, Tolerance: 1, Mode: Mode(7)},
	} {
		_, err := New(cfg)
		g.Expect(err).To(HaveOccurred(), "%+v", cfg)
	}

	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})
	_, err := test.Observe(State{}, reading(1, -1, 1, 0))
	g.Expect(err).To(MatchError(ErrNegativeCount))

	// Sums gathered in PerInterval mode do not fit a PerRequest test.
	interval := mustNew(t, Config{Alpha: 0.05, Tolerance: 1, Mode: PerInterval})
	s := observeAll(t, interval, reading(0, 0, 0, 0), reading(10, 1, 10, 1))
	_, err = test.Observe(s, reading(20, 2, 20, 2))
	g.Expect(err).To(MatchError(ContainSubstring("mode changed")))
}

func TestEvidenceStaysFiniteUnderOverwhelmingCounts(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})

	s := observeAll(t, test, reading(0, 0, 0, 0), reading(1e12, 1e12, 1e12, 0))

	g.Expect(math.IsInf(test.RollbackEvidence(s), 0)).To(BeFalse())
	g.Expect(test.RollbackEvidence(s)).To(BeNumerically(">", 1e300))
	g.Expect(test.PromotionEvidence(s)).To(BeZero())
}
