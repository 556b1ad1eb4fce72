package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// WatchOptions say what Watch shows.
type WatchOptions struct {
	// Namespace of the releases; "" means every namespace.
	Namespace string
	// Names of the releases to show; empty means every Canary and BlueGreen
	// in Namespace. A name not there yet appears once it is created.
	Names []string
	// Terminal redraws the board in place with ANSI escapes; otherwise
	// Watch writes plain lines, one per change, fit for a log.
	Terminal bool
	// Interval between polls; one second when zero.
	Interval time.Duration
	// Now is the clock times are printed from (and in whose location);
	// time.Now when nil.
	Now func() time.Time
	// Header returns extra lines for the top of the board (the sandbox
	// prints its scenario step and traffic rate there); may be nil. Off a
	// terminal each changed line is printed with the time.
	Header func() string
}

// Watch renders a board of releases until ctx ends: per release its phase,
// weight bar or active color, step, metrics against their thresholds and
// the judge's evidence, then the latest Events about them, merged by time.
// On a terminal the board is redrawn in place whenever it changed; otherwise
// each change of a release's summary is one line and each new Event is one
// line, and nothing is printed while nothing changes.
//
// c must read from the API server (client.New), not from a cache: Events are
// selected by field on the server.
func Watch(ctx context.Context, w io.Writer, c client.Client, o WatchOptions) error {
	interval, now := o.Interval, o.Now
	if interval <= 0 {
		interval = time.Second
	}
	if now == nil {
		now = time.Now
	}
	empty := "No canaries or bluegreens in any namespace yet."
	if o.Namespace != "" {
		empty = fmt.Sprintf("No canaries or bluegreens in namespace %s yet.", o.Namespace)
	}
	poll := func(ctx context.Context) (snapshot, error) {
		s, err := boardSnapshot(ctx, c, o.Namespace, o.Names)
		if o.Header != nil {
			s.header = o.Header()
		}
		return s, err
	}
	return live(ctx, w, &screen{view: board{empty: empty}, terminal: o.Terminal}, interval, now, poll)
}

// boardSnapshot lists the releases of ns with the given names (all when
// none), in the order of `get`, and the events about them.
func boardSnapshot(ctx context.Context, c client.Client, ns string, names []string) (snapshot, error) {
	var canaries v1alpha1.CanaryList
	if err := c.List(ctx, &canaries, client.InNamespace(ns)); err != nil {
		return snapshot{}, fmt.Errorf("list canaries: %w", err)
	}
	var blueGreens v1alpha1.BlueGreenList
	if err := c.List(ctx, &blueGreens, client.InNamespace(ns)); err != nil {
		return snapshot{}, fmt.Errorf("list bluegreens: %w", err)
	}
	shown := func(name string) bool { return len(names) == 0 || slices.Contains(names, name) }
	var rs []release
	for i := range canaries.Items {
		if cn := &canaries.Items[i]; shown(cn.Name) {
			rs = append(rs, release{canary: cn})
		}
	}
	for i := range blueGreens.Items {
		if bg := &blueGreens.Items[i]; shown(bg.Name) {
			rs = append(rs, release{blueGreen: bg})
		}
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i].object(), rs[j].object()
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		if a.GetName() != b.GetName() {
			return a.GetName() < b.GetName()
		}
		return rs[i].kind() < rs[j].kind()
	})
	evs, note, err := listEvents(ctx, c, ns, sluiceEvents)
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{releases: rs, events: about(evs, rs), eventsNote: note}, nil
}

// A live view outlasts a bad moment of the API server or the network: a
// failed poll keeps the last frame, says what failed, and the next tick
// tries again. It gives up after maxFailedPolls failures in a row, and at
// once on an error that is an answer rather than a failure (see retryable).
const maxFailedPolls = 10

// minPollTimeout bounds one poll (the interval bounds it when longer): a
// request the network swallowed shows as a failed poll instead of freezing
// the view.
const minPollTimeout = 30 * time.Second

// live is the polling shell of the live views: it polls every interval
// until ctx ends and writes what the screen makes of each snapshot, or
// what failed. A poll cut short by the end of ctx is the end of the watch,
// not an error.
func live(ctx context.Context, w io.Writer, scr *screen, interval time.Duration, now func() time.Time,
	poll func(context.Context) (snapshot, error)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var f failures
	for {
		s, err := pollOnce(ctx, max(interval, minPollTimeout), poll)
		var out string
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			f.reset(s)
			out = scr.update(s, now())
		case !retryable(err):
			return err
		case f.inRow+1 >= maxFailedPolls:
			return fmt.Errorf("%d polls in a row failed, the last: %w", f.inRow+1, err)
		default:
			out = f.record(scr, err, now())
		}
		if out != "" {
			if _, err := io.WriteString(w, out); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// pollOnce runs one poll, for at most timeout.
func pollOnce(ctx context.Context, timeout time.Duration, poll func(context.Context) (snapshot, error)) (snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return poll(ctx)
}

// retryable tells a failure of the API server or of the way to it, which
// the next poll may not meet, from an answer that will not change: the
// server refusing the request (403, 404, 400...) or the poll itself
// deciding there is nothing to show, as `status --watch` does when its
// release is gone.
func retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	code := status.Status().Code
	return code == http.StatusTooManyRequests || code >= http.StatusInternalServerError ||
		apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err)
}

// failures is what a live view keeps while polls fail in a row.
type failures struct {
	// inRow counts the polls failed since the last good one.
	inRow int
	// logged is the error last written in plain mode: a log gets a line
	// per distinct error, not one per poll.
	logged string
	// good is the last good snapshot, whose frame a terminal keeps showing.
	good *snapshot
}

// reset forgets the failures after the good poll s.
func (f *failures) reset(s snapshot) {
	f.inRow, f.logged, f.good = 0, "", &s
}

// record counts a failed poll and returns what to write about it: on a
// terminal the last good frame with a line saying what failed; otherwise a
// line, only when the error differs from the one before it.
func (f *failures) record(scr *screen, err error, now time.Time) string {
	f.inRow++
	msg := err.Error()
	if !scr.terminal {
		if msg == f.logged {
			return ""
		}
		f.logged = msg
		return stamp(now, "poll failed: "+msg+"; retrying")
	}
	frame := ""
	if f.good != nil {
		frame = scr.view.frame(*f.good, now) + "\n"
	}
	first := scr.drawn == ""
	// Forget the snapshot on screen: the next good poll redraws the frame,
	// without this line, even when nothing in it changed.
	scr.prev = nil
	scr.drawn = frame + "last poll failed at " + now.Format(clock) + ": " + msg + "; retrying\n"
	return redraw(scr.drawn, first)
}
