package mesh

import (
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestThePacerDuesExactlyTheRateTimesTheTimeElapsedWhateverTheTicks(t *testing.T) {
	g := NewWithT(t)
	rng := rand.New(rand.NewPCG(11, 11))
	for _, rate := range []float64{200, 7, 0.5, 1234.5} {
		start := time.Unix(1000, 0)
		p := newPacer(start, rate)
		now, sum := start, int64(0)
		for range 500 {
			now = now.Add(time.Duration(rng.Int64N(int64(250 * time.Millisecond))))
			n := p.due(now, rate)
			g.Expect(n).To(BeNumerically(">=", 0))
			sum += n
			want := int64(rate * now.Sub(start).Seconds())
			g.Expect(sum).To(BeNumerically("~", want, 1), "rate %v after %s", rate, now.Sub(start))
		}
		g.Expect(sum+p.due(start.Add(100*time.Second), rate)).To(Equal(int64(rate*100)), "rate %v over 100 s", rate)
	}
}

func TestThePacerCarriesWhatWasOwedAcrossARateChange(t *testing.T) {
	g := NewWithT(t)
	start := time.Unix(1000, 0)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	p := newPacer(start, 10)
	g.Expect(p.due(at(250), 10)).To(Equal(int64(2)), "2.5 due: 2 now, 0.5 carried")
	g.Expect(p.due(at(250), 100)).To(Equal(int64(0)), "the new rate starts with 0.5 owed")
	g.Expect(p.due(at(255), 100)).To(Equal(int64(1)), "0.5 owed + 0.5 at the new rate")
	g.Expect(p.due(at(1255), 100)).To(Equal(int64(100)))
	g.Expect(p.due(at(1300), 0)).To(Equal(int64(4)), "the time since the last call is paid at the old rate")
	g.Expect(p.due(at(9000), 0)).To(Equal(int64(0)), "a rate of 0 sends nothing")
}
