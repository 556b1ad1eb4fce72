// Package sequential is the statistics behind Sluice's judge: an
// anytime-valid sequential test that compares the failure rate of a canary
// with the primary's, from cumulative counters read at any times one likes.
//
// It has no Kubernetes imports, no clock and no goroutines. Its State is plain
// data that the caller stores (in Sluice, in the object's status) and hands
// back with the next reading.
//
// # The question
//
// Each version serves requests, and some of them are "events": failures, or
// requests slower than a latency bound. Let ψ be the canary's event rate
// divided by the primary's. The canary is healthy when ψ ≤ ψ₀, the tolerance
// (ψ₀ = 1 means "no worse than the primary"). The test rolls back only with
// evidence against that, and its promise is: for a healthy canary, the chance
// that it ever rolls back, however often it looks and for however long, is at
// most alpha.
//
// # Conditioning the traffic away (PerRequest mode)
//
// This is the conditional binomial test of Lindon and Malek ("Anytime-valid
// inference for multinomial count data", arXiv 2011.03567). Between two
// readings, the canary served a share q of the new requests. If events arrive
// at a rate proportional to requests, then given that n new events happened
// in total, each of them is the canary's with probability
//
//	θ(ψ) = qψ / (qψ + 1 − q)
//
// and the number of canary events is binomial(n, θ(ψ)). The overall traffic
// level and anything that multiplies both versions' rates alike (a shared
// incident, a dependency failing for everyone, a traffic surge) cancel: only
// the split of events between the versions carries information.
//
// For one alternative ψ₁ > ψ₀, the likelihood ratio of a split of c canary and
// p primary events is
//
//	(θ(ψ₁)/θ(ψ₀))^c · ((1−θ(ψ₁))/(1−θ(ψ₀)))^p
//
// and the product of these ratios over successive readings is a test
// martingale when ψ = ψ₀, and a supermartingale when ψ < ψ₀ (the ratio grows
// with c, and c is then stochastically smaller). The test keeps the logarithm
// of that product for each alternative of a fixed grid (ψ₀ × 1.2 … ψ₀ × 10)
// and reports their plain average, the e-value: an average of test
// supermartingales is one too, and Ville's inequality says it ever reaches
// 1/alpha with probability at most alpha. Sums are kept in log space and
// averaged with log-sum-exp, so nothing overflows.
//
// Because the grid covers small and large regressions, a 5× regression is
// caught in a few dozen events and a 1.5× one eventually, without choosing an
// effect size in advance. Requests are Bernoulli trials rather than Poisson
// events; the conditional count is then hypergeometric-like and less spread
// than the binomial, which keeps the test valid (conservative) at ψ₀ = 1.
//
// # When rates jitter (PerInterval mode)
//
// The PerRequest test trusts every event to be an independent draw. When the
// canary's rate itself wanders from minute to minute (a pod warming up, a
// noisy dependency hit by one version), thousands of events per minute make
// each wobble look like proof. PerInterval mode counts each reading as one
// observation instead: it asks only "did the canary get more than its median
// share of this interval's events?", that is, more than the median m of
// binomial(n, θ(ψ₀)) (m is ⌊nθ₀⌋ or ⌈nθ₀⌉, chosen exactly). Under a healthy
// canary that happens with probability at most one half, whatever n is, so
// intervals are coin flips and the e-process is a mixture of likelihood
// ratios for a coin that lands "canary worse" with probability 0.6, 0.7, 0.8,
// 0.9 or 0.95 instead of 0.5. One interval can at most double the evidence,
// so no burst decides alone. It stays valid when the ratio jitters between
// intervals, as long as the jitter does not favor the primary more often
// than the canary; a tolerance ψ₀ > 1 adds margin. It needs several intervals
// (about 7 in a row for alpha = 0.05) to decide.
//
// # Promotion evidence
//
// The mirror test gathers evidence that the canary is within tolerance: its
// null hypothesis is a clear regression, ψ ≥ ψ₁, with ψ₁ = 2ψ₀ by default,
// and its alternatives lie at or below ψ₀ (ψ₀ × 1, 0.8, 0.6, 0.4). When its
// e-value reaches 1/alpha, the chance that a canary at least ψ₁ times worse
// got there is at most alpha. In PerInterval mode it counts intervals in
// which the primary got more than its median share under ψ₁.
//
// # Counters
//
// Readings are cumulative (Prometheus counters summed over pods). The first
// reading is only a baseline. A reading lower than the previous one on either
// count is a counter reset (pods restarted): the new reading itself is taken
// as what happened since, never a negative difference. A reading in which
// either version served no new requests carries no information on the split
// and adds no evidence.
package sequential
