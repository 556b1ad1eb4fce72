package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

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
// weight bar or active colour, step, metrics against their thresholds and
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

// live is the polling shell of the live views: it polls every interval
// until ctx ends and writes what the screen makes of each snapshot. A poll
// cut short by the end of ctx is the end of the watch, not an error.
func live(ctx context.Context, w io.Writer, scr *screen, interval time.Duration, now func() time.Time,
	poll func(context.Context) (snapshot, error)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s, err := poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if out := scr.update(s, now()); out != "" {
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
