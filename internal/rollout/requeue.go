package rollout

import "time"

// Outcome is what a decision of either kind says besides its status and its
// actions: the events to emit and when to reconcile again.
type Outcome struct {
	// Events to emit; only transitions produce them.
	Events []Event
	// RequeueAfter is when to reconcile again at the latest; zero means wait
	// for a watch event.
	RequeueAfter time.Duration
	// Poll is true when RequeueAfter is only a poll: nothing falls due
	// then, and the look is taken in case the watch event that should move
	// the release (a weight read back, a Deployment ready) never comes. The
	// shell queues it behind the work events and due moments bring.
	Poll bool
}

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
