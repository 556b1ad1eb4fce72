package main

import (
	"math"
	"math/rand/v2"
)

// Simulated time is cut in buckets; every method looks at bucket ends.
const (
	bucketSeconds  = 30
	horizonMinutes = 30
	buckets        = horizonMinutes * 60 / bucketSeconds
	bucketsPerMin  = 60 / bucketSeconds
	// baseRate is p₀, the primary's failure rate.
	baseRate = 0.01
)

// weightStep is one step of the canary weight schedule.
type weightStep struct {
	minutes int
	weight  float64
}

// schedule is the release simulated: 10 minutes at 10%, then 20%, then 50%.
// A canary not rolled back by the end is promoted.
var schedule = []weightStep{{minutes: 10, weight: 0.10}, {minutes: 10, weight: 0.20}, {minutes: 10, weight: 0.50}}

// weightAt returns the canary's share of traffic during bucket b.
func weightAt(b int) float64 {
	minute := b / bucketsPerMin
	for _, s := range schedule {
		if minute < s.minutes {
			return s.weight
		}
		minute -= s.minutes
	}
	return schedule[len(schedule)-1].weight
}

// incident multiplies both versions' failure rates between two minutes, as
// a failing dependency would.
type incident struct {
	from, to int
	factor   float64
}

// scenario is a kind of traffic.
type scenario struct {
	name  string
	title string
	// jitter is the σ of a lognormal factor, drawn each minute and for each
	// version on its own, on the failure rate (its mean stays the same).
	jitter   float64
	incident *incident
}

var scenarios = []scenario{
	{name: "steady", title: "Steady failure rates"},
	{name: "jitter", title: "Failure rates that jitter minute to minute (σ = 0.3 per version)", jitter: 0.3},
	{name: "incident", title: "A shared incident: both versions fail 5× as often in minutes 2–7",
		incident: &incident{from: 2, to: 7, factor: 5}},
}

// stream is one simulated release: what each version served per bucket.
// Every method judges the very same stream.
type stream struct {
	canaryRequests, canaryErrors, primaryRequests, primaryErrors [buckets]int64
}

// simulate draws one release: Poisson requests at rps, split by the weight
// schedule, failures at canaryRate for the canary and baseRate for the
// primary, with the scenario's jitter and incident.
func simulate(rng *rand.Rand, sc scenario, rps, canaryRate float64) *stream {
	var s stream
	var jc, jp float64
	for b := range buckets {
		minute := b / bucketsPerMin
		if b%bucketsPerMin == 0 {
			jc, jp = jitterFactor(rng, sc.jitter), jitterFactor(rng, sc.jitter)
		}
		shared := 1.0
		if sc.incident != nil && minute >= sc.incident.from && minute < sc.incident.to {
			shared = sc.incident.factor
		}
		w := weightAt(b)
		s.canaryRequests[b], s.canaryErrors[b] = serve(rng, rps*w*bucketSeconds, canaryRate*jc*shared)
		s.primaryRequests[b], s.primaryErrors[b] = serve(rng, rps*(1-w)*bucketSeconds, baseRate*jp*shared)
	}
	return &s
}

// serve draws Poisson(mean) requests of which each fails with chance p: the
// failures and the successes are then independent Poisson counts.
func serve(rng *rand.Rand, mean, p float64) (requests, failures int64) {
	p = math.Min(p, 1)
	failures = poisson(rng, mean*p)
	return failures + poisson(rng, mean*(1-p)), failures
}

func jitterFactor(rng *rand.Rand, sigma float64) float64 {
	if sigma == 0 {
		return 1
	}
	return math.Exp(sigma*rng.NormFloat64() - sigma*sigma/2)
}

// poisson draws a Poisson variate: by inversion for small means, by
// Hörmann's transformed rejection (PTRS, 1993) for larger ones.
func poisson(rng *rand.Rand, mean float64) int64 {
	if mean <= 0 {
		return 0
	}
	if mean < 10 {
		k, p := int64(0), math.Exp(-mean)
		cdf, u := p, rng.Float64()
		for u > cdf && p > 0 {
			k++
			p *= mean / float64(k)
			cdf += p
		}
		return k
	}
	return poissonPTRS(rng, mean)
}

func poissonPTRS(rng *rand.Rand, mean float64) int64 {
	logMean := math.Log(mean)
	b := 0.931 + 2.53*math.Sqrt(mean)
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + mean + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -mean+k*logMean-lg {
			return int64(k)
		}
	}
}
