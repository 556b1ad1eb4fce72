package mesh

import "time"

// pacer turns a rate into whole requests due at successive instants. While
// the rate stays the same, the total due by any instant is the rate times
// the time elapsed, rounded down, however irregular the instants: a fraction
// of a request is carried to the next one, and a change of rate carries what
// was owed at the old rate.
type pacer struct {
	rate   float64
	since  time.Time
	owed   float64 // requests owed at since, less than one unless the rate changed while behind
	issued int64   // whole requests issued since since
}

// newPacer starts pacing at start.
func newPacer(start time.Time, rate float64) *pacer {
	return &pacer{rate: rate, since: start}
}

// due returns how many requests to send at now. The time since the last call
// is paid at the rate of that call; rate applies from now on.
func (p *pacer) due(now time.Time, rate float64) int64 {
	if rate != p.rate {
		p.owed = p.total(now) - float64(p.issued)
		p.rate, p.since, p.issued = rate, now, 0
	}
	n := int64(p.total(now)) - p.issued
	if n < 0 {
		return 0
	}
	p.issued += n
	return n
}

// total is the number of requests due from since to now, fractions included.
func (p *pacer) total(now time.Time) float64 {
	return p.owed + p.rate*float64(now.Sub(p.since))/float64(time.Second)
}
