package rollout

import "time"

// soonest is how long from now until the earliest of at, at least a second
// (a moment already past is due now, and a zero requeue would mean "never"),
// or zero when at is empty.
func soonest(now time.Time, at []time.Time) time.Duration {
	var out time.Duration
	for _, t := range at {
		d := max(t.Sub(now), time.Second)
		if out == 0 || d < out {
			out = d
		}
	}
	return out
}
