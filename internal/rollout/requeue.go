package rollout

import "time"

// soonest is how long from now until the earliest of at, or zero when at is
// empty. now is the exact time of the observation, not the second-truncated
// one status timestamps carry: a pause that ends at 12:00:05 seen at
// 12:00:04.300 is due in 700 ms, not in a second. A moment already past (one
// Next could not act on yet) is looked at again in a second, so that a
// release waiting on something else does not spin.
func soonest(now time.Time, at []time.Time) time.Duration {
	var out time.Duration
	for _, t := range at {
		d := t.Sub(now)
		if d <= 0 {
			d = time.Second
		}
		if out == 0 || d < out {
			out = d
		}
	}
	return out
}
