package main

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/onsi/gomega"
)

func TestPoissonDrawsHaveTheMeanAndVarianceOfAPoisson(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, mean := range []float64{0.3, 4, 12, 300, 15000} {
		g := NewWithT(t)
		const n = 40000
		var sum, sumSq float64
		for range n {
			x := float64(poisson(rng, mean))
			sum += x
			sumSq += x * x
		}
		m := sum / n
		v := sumSq/n - m*m
		// The sample mean's standard error is sqrt(mean/n); allow 5 of them.
		g.Expect(m).To(BeNumerically("~", mean, 5*math.Sqrt(mean/n)), "mean %v", mean)
		g.Expect(v/mean).To(BeNumerically("~", 1, 0.05), "variance at mean %v", mean)
	}
}

func TestTheWeightScheduleStepsFromTenToTwentyToFiftyPercent(t *testing.T) {
	g := NewWithT(t)
	g.Expect(weightAt(0)).To(Equal(0.10))
	g.Expect(weightAt(10*bucketsPerMin - 1)).To(Equal(0.10))
	g.Expect(weightAt(10 * bucketsPerMin)).To(Equal(0.20))
	g.Expect(weightAt(buckets - 1)).To(Equal(0.50))
}

func TestEveryMethodLetsAHealthyQuietReleaseThroughAndCatchesAnOutage(t *testing.T) {
	var quiet, outage stream
	for b := range buckets {
		quiet.canaryRequests[b], quiet.primaryRequests[b] = 300, 2700
		outage.canaryRequests[b], outage.canaryErrors[b] = 300, 150
		outage.primaryRequests[b], outage.primaryErrors[b] = 2700, 27
	}
	for _, m := range methods() {
		g := NewWithT(t)
		b, err := m.decide(&quiet)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(b).To(Equal(never), m.name)
		b, err = m.decide(&outage)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(b).NotTo(Equal(never), m.name)
	}
}
