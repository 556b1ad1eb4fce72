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

// wake is how long from now until the earliest of the due moments at and,
// when polling, the poll; and whether that earliest look is only the poll.
// Why the difference matters: a due moment (a pause's end, a check, a
// deadline) is late if it waits, while a poll only guards against a watch
// event that never came, and may wait behind work that events and due
// moments bring.
func wake(now time.Time, at []time.Time, polling bool, poll time.Time) (time.Duration, bool) {
	due := soonest(now, at)
	if !polling {
		return due, false
	}
	p := soonest(now, []time.Time{poll})
	if due != 0 && due <= p {
		return due, false
	}
	return p, true
}
