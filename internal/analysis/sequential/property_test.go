package sequential

import (
	"math/rand/v2"
	"testing"

	. "github.com/onsi/gomega"
)

// randomHistory builds a state from a few random readings.
func randomHistory(t *testing.T, test *Test, rng *rand.Rand) (State, Reading) {
	t.Helper()
	var cum Reading
	s, err := test.Observe(State{}, cum)
	if err != nil {
		t.Fatal(err)
	}
	for range rng.IntN(6) {
		cum = randomStep(rng, cum, 0)
		if s, err = test.Observe(s, cum); err != nil {
			t.Fatal(err)
		}
	}
	return s, cum
}

// randomStep advances cumulative counts by a random amount, with extra
// canary events on top.
func randomStep(rng *rand.Rand, cum Reading, extraCanaryEvents int64) Reading {
	cr, pr := 1+rng.Int64N(500), 1+rng.Int64N(5000)
	cum.Canary.Requests += cr
	cum.Canary.Events += rng.Int64N(cr/4+1) + extraCanaryEvents
	cum.Primary.Requests += pr
	cum.Primary.Events += rng.Int64N(pr/4 + 1)
	return cum
}

func TestMoreCanaryFailuresNeverLowerRollbackEvidenceNorRaisePromotionEvidence(t *testing.T) {
	for _, mode := range []Mode{PerRequest, PerInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			g := NewWithT(t)
			rng := rand.New(rand.NewPCG(7, uint64(mode)))
			for range 3000 {
				test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1 + 2*rng.Float64(), Mode: mode})
				s, cum := randomHistory(t, test, rng)
				step := randomStep(rand.New(rand.NewPCG(rng.Uint64(), 0)), cum, 0)
				worse := step
				worse.Canary.Events += 1 + rng.Int64N(20)

				base, err := test.Observe(s, step)
				g.Expect(err).NotTo(HaveOccurred())
				more, err := test.Observe(s, worse)
				g.Expect(err).NotTo(HaveOccurred())

				g.Expect(test.RollbackEvidence(more)).To(BeNumerically(">=", test.RollbackEvidence(base)))
				g.Expect(test.PromotionEvidence(more)).To(BeNumerically("<=", test.PromotionEvidence(base)))
			}
		})
	}
}

func TestASharedSurgeOfFailuresThatKeepsTheSplitAddsNoRollbackEvidence(t *testing.T) {
	g := NewWithT(t)
	test := mustNew(t, Config{Alpha: 0.05, Tolerance: 1})

	// 10% of requests and exactly 10% of the failures go to the canary, first
	// at a 1% failure rate, then during an incident at 30%.
	s := observeAll(t, test, reading(0, 0, 0, 0), reading(1000, 10, 9000, 90), reading(2000, 310, 18000, 2790))

	g.Expect(test.RollbackEvidence(s)).To(BeNumerically("<", 1))
}
