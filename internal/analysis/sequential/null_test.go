package sequential

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/onsi/gomega"
)

// binomial draws the number of successes in n trials of chance p by jumping
// from one success to the next (geometric gaps): about n·p draws.
func binomial(rng *rand.Rand, n int64, p float64) int64 {
	if p <= 0 {
		return 0
	}
	logMiss := math.Log1p(-p)
	var count, i int64
	for {
		i += int64(math.Log(1-rng.Float64())/logMiss) + 1
		if i > n {
			return count
		}
		count++
	}
}

// release describes simulated runs: requests per look, the canary's share
// of them per look (a weight schedule, applied exactly), and both versions' failure rates.
type release struct {
	looks        int
	requests     int64
	weights      []float64 // canary share, one entry per stretch of looks
	primaryRate  float64
	canaryRate   float64
	canaryJitter float64 // lognormal σ of the canary's rate, per look
}

// rolledBack simulates one run and reports whether the rollback evidence
// ever reached the threshold, looking after every batch of requests.
func (r release) rolledBack(test *Test, rng *rand.Rand) (bool, error) {
	var s State
	var cum Reading
	if _, err := test.Observe(s, cum); err != nil {
		return false, err
	}
	s.LastCanary, s.LastPrimary = &Counts{}, &Counts{}
	for look := range r.looks {
		w := r.weights[look*len(r.weights)/r.looks]
		canary := int64(math.Round(float64(r.requests) * w))
		rate := r.canaryRate * math.Exp(r.canaryJitter*rng.NormFloat64())
		cum.Canary.Requests += canary
		cum.Canary.Events += binomial(rng, canary, math.Min(rate, 1))
		cum.Primary.Requests += r.requests - canary
		cum.Primary.Events += binomial(rng, r.requests-canary, r.primaryRate)
		var err error
		if s, err = test.Observe(s, cum); err != nil {
			return false, err
		}
		if test.RollbackEvidence(s) >= test.Threshold() {
			return true, nil
		}
	}
	return false, nil
}

// rollbackRate runs a release many times with a fixed seed.
func rollbackRate(t *testing.T, test *Test, r release, runs int, seed uint64) float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	rolled := 0
	for range runs {
		yes, err := r.rolledBack(test, rng)
		if err != nil {
			t.Fatal(err)
		}
		if yes {
			rolled++
		}
	}
	return float64(rolled) / float64(runs)
}

// The guarantee is P(ever ≥ 1/α) ≤ α, however many looks. The mixture is
// conservative: observed rates sit near 0.03 for PerRequest and near 0.01
// for PerInterval, about five standard errors (0.004 with 3000 runs) below
// α, so checking the bound as stated leaves a wide margin; the seeds are
// fixed, so the test is deterministic. Runs look 200 to 400 times each.
func TestAHealthyCanaryIsRolledBackAtMostAlphaOfTheTimeHoweverOftenTheJudgeLooks(t *testing.T) {
	const alpha, runs = 0.05, 3000
	schedule := []float64{0.01, 0.1, 0.25, 0.5}
	cases := []struct {
		name string
		cfg  Config
		r    release
	}{
		{"per request, same rate, a look every 1000 requests",
			Config{Alpha: alpha, Tolerance: 1},
			release{looks: 200, requests: 1000, weights: schedule, primaryRate: 0.01, canaryRate: 0.01}},
		{"per request, canary exactly at a tolerance of 1.5",
			Config{Alpha: alpha, Tolerance: 1.5},
			release{looks: 200, requests: 1000, weights: schedule, primaryRate: 0.01, canaryRate: 0.015}},
		{"per request, a look every 50 requests at a 5% failure rate",
			Config{Alpha: alpha, Tolerance: 1},
			release{looks: 400, requests: 50, weights: []float64{0.1, 0.5}, primaryRate: 0.05, canaryRate: 0.05}},
		{"per interval, same rate",
			Config{Alpha: alpha, Tolerance: 1, Mode: PerInterval},
			release{looks: 200, requests: 1000, weights: schedule, primaryRate: 0.01, canaryRate: 0.01}},
		{"per interval, a canary rate that jitters around the primary's",
			Config{Alpha: alpha, Tolerance: 1, Mode: PerInterval},
			release{looks: 200, requests: 2000, weights: []float64{0.5}, primaryRate: 0.02,
				canaryRate: 0.02 * math.Exp(-0.5*0.4*0.4), canaryJitter: 0.4}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			rate := rollbackRate(t, mustNew(t, c.cfg), c.r, runs, uint64(100+i))
			t.Logf("false rollbacks: %.4f (alpha %.2f)", rate, alpha)
			g.Expect(rate).To(BeNumerically("<=", alpha))
		})
	}
}

// Without this, a test that never rolls back would pass the one above.
func TestARegressedCanaryIsRolledBackInAlmostEveryRun(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"per request", Config{Alpha: 0.05, Tolerance: 1}},
		{"per interval", Config{Alpha: 0.05, Tolerance: 1, Mode: PerInterval}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			r := release{looks: 60, requests: 1000, weights: []float64{0.1}, primaryRate: 0.01, canaryRate: 0.03}
			g.Expect(rollbackRate(t, mustNew(t, c.cfg), r, 500, uint64(200+i))).To(BeNumerically(">=", 0.95))
		})
	}
}
