package sequential

import "math"

// addSplit adds one PerRequest observation: canary and primary new events,
// with the canary's request share qc and the primary's qp (qc + qp = 1).
func (t *Test) addSplit(s State, qc, qp float64, canary, primary int64) {
	c, p := float64(canary), float64(primary)
	addSplitRatios(s.LogRollback, qc, qp, t.cfg.Tolerance, t.rollback, c, p)
	addSplitRatios(s.LogPromotion, qc, qp, t.cfg.Regression, t.promotion, c, p)
}

// addSplitRatios adds, for each alternative ψ, the log likelihood ratio of c
// canary and p primary events under binomial(c+p, θ(ψ)) against
// binomial(c+p, θ(null)).
func addSplitRatios(sums []float64, qc, qp, null float64, alternatives []float64, c, p float64) {
	logTheta0, logRest0 := logShares(qc, qp, null)
	for i, psi := range alternatives {
		logTheta, logRest := logShares(qc, qp, psi)
		sums[i] = accumulate(sums[i], c*(logTheta-logTheta0)+p*(logRest-logRest0))
	}
}

// logShares returns log θ(ψ) and log(1 − θ(ψ)), where θ(ψ) = qcψ/(qcψ + qp)
// is the chance that an event is the canary's when the canary's rate is ψ
// times the primary's. Both shares are computed directly, never as 1 − x, so
// neither turns into log 0 when one version has almost all the traffic.
func logShares(qc, qp, psi float64) (logTheta, logRest float64) {
	den := math.Log(qc*psi + qp)
	return math.Log(qc*psi) - den, math.Log(qp) - den
}

// addCoin adds one PerInterval observation. The rollback coin lands "worse"
// when the canary got more than the median of binomial(n, θ(ψ₀)) events; the
// promotion coin lands "better" when the primary got more than the median of
// its share under the regression ψ₁.
func (t *Test) addCoin(s State, qc, qp float64, canary, primary int64) {
	n := saturatingAdd(canary, primary)
	canaryShare := qc * t.cfg.Tolerance / (qc*t.cfg.Tolerance + qp)
	primaryShare := qp / (qc*t.cfg.Regression + qp)
	addCoinFlip(s.LogRollback, t.rollback, float64(canary) > binomialMedian(n, canaryShare))
	addCoinFlip(s.LogPromotion, t.promotion, float64(primary) > binomialMedian(n, primaryShare))
}

// addCoinFlip adds the log likelihood ratio of one coin flip for a coin that
// lands on hit with chance a, against a fair coin.
func addCoinFlip(sums []float64, alternatives []float64, hit bool) {
	for i, a := range alternatives {
		if hit {
			sums[i] = accumulate(sums[i], math.Log(2*a))
		} else {
			sums[i] = accumulate(sums[i], math.Log(2*(1-a)))
		}
	}
}

// exactMedianLimit bounds the n for which the median is computed exactly.
// Above it, ⌈np⌉ is used: never below the median, so the chance of exceeding
// it stays at most one half.
const exactMedianLimit = 1 << 20

// binomialMedian returns the smallest m with P(X ≤ m) ≥ 1/2 for X binomial
// (n, p). It is ⌊np⌋ or ⌈np⌉ (Kaas and Buhrman, 1980); the binomial CDF at
// ⌊np⌋ decides which. P(X > m) ≤ 1/2 holds by construction.
func binomialMedian(n int64, p float64) float64 {
	mean := float64(n) * p
	lo, hi := math.Floor(mean), math.Ceil(mean)
	if lo == hi || n > exactMedianLimit {
		return hi
	}
	// Exact ties (n odd, p = 1/2) are common at a 50% weight, so lo must win
	// when the CDF is one half up to rounding; the slack is far below any
	// alpha.
	if binomialCDF(n, int64(lo), p) >= 0.5-1e-12 {
		return lo
	}
	return hi
}

// binomialCDF returns P(X ≤ k) for X binomial(n, p), 0 ≤ k < n, 0 < p < 1,
// with k at or below the mean: it starts from the probability of k and walks
// down while terms still matter.
func binomialCDF(n, k int64, p float64) float64 {
	nf, kf := float64(n), float64(k)
	lgN, _ := math.Lgamma(nf + 1)
	lgK, _ := math.Lgamma(kf + 1)
	lgNK, _ := math.Lgamma(nf - kf + 1)
	term := math.Exp(lgN - lgK - lgNK + kf*math.Log(p) + (nf-kf)*math.Log1p(-p))
	odds := (1 - p) / p
	sum := term
	for j := k; j > 0; j-- {
		term *= float64(j) / (nf - float64(j) + 1) * odds
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
