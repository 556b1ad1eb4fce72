package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// recentEvents is how many events a view shows at its foot, and how many
// existing ones a plain watch prints when it starts.
const recentEvents = 8

// clock is how the views print times: events are at most an hour old
// (the API server's default TTL), so the time of day is enough.
const clock = "15:04:05"

// event is one occurrence of a Kubernetes Event about a release.
type event struct {
	// key tells occurrences apart: the Event's UID and its count, so that a
	// repeat the recorder folds into a series is a new occurrence.
	key string
	// name of the Event object, to order events of the same instant.
	name    string
	time    time.Time
	typ     string
	reason  string
	message string
	// count is how often the event occurred, 1 for a single one.
	count int32
	// release is the release it is about, as release.String prints it.
	release string
	uid     types.UID
}

// listEvents lists the events.k8s.io/v1 Events about Sluice's kinds in ns
// ("" for every namespace), the API the operator's recorder writes (see
// release.Emit), narrowed by the API server with fields. A caller that may
// not list Events gets a note saying so instead of an error: the view still
// works without them.
func listEvents(ctx context.Context, c client.Client, ns string, fields client.MatchingFields) ([]event, string, error) {
	var list eventsv1.EventList
	if err := c.List(ctx, &list, client.InNamespace(ns), fields); err != nil {
		if apierrors.IsForbidden(err) {
			return nil, "hidden (not allowed to list events.k8s.io Events)", nil
		}
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	evs := make([]event, 0, len(list.Items))
	for i := range list.Items {
		evs = append(evs, eventOf(&list.Items[i]))
	}
	sortEvents(evs)
	return evs, "", nil
}

// sluiceEvents are the fields selecting Events about a Canary or a
// BlueGreen.
var sluiceEvents = client.MatchingFields{"regarding.apiVersion": v1alpha1.GroupVersion.String()}

// eventOf reads an Event as the recorder wrote it: the time of its last
// occurrence (series.lastObservedTime, else eventTime), falling back to the
// deprecated core/v1 fields for Events written through the older API.
func eventOf(e *eventsv1.Event) event {
	at, count := e.EventTime.Time, int32(1)
	switch {
	case e.Series != nil:
		at, count = e.Series.LastObservedTime.Time, e.Series.Count
	case e.DeprecatedCount > 1:
		at, count = e.DeprecatedLastTimestamp.Time, e.DeprecatedCount
	}
	for _, t := range []time.Time{e.DeprecatedLastTimestamp.Time, e.DeprecatedFirstTimestamp.Time, e.CreationTimestamp.Time} {
		if !at.IsZero() {
			break
		}
		at = t
	}
	return event{
		key:     fmt.Sprintf("%s/%d", e.UID, count),
		name:    e.Name,
		time:    at,
		typ:     e.Type,
		reason:  e.Reason,
		message: strings.Join(strings.Fields(e.Note), " "),
		count:   count,
		release: fmt.Sprintf("%s %s/%s", strings.ToLower(e.Regarding.Kind), e.Regarding.Namespace, e.Regarding.Name),
		uid:     e.Regarding.UID,
	}
}

// sortEvents orders events oldest first.
func sortEvents(evs []event) {
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if !a.time.Equal(b.time) {
			return a.time.Before(b.time)
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.count < b.count
	})
}

// about keeps the events about the given releases, in order.
func about(evs []event, rs []release) []event {
	uids := make(map[types.UID]bool, len(rs))
	for _, r := range rs {
		uids[r.object().GetUID()] = true
	}
	var out []event
	for _, e := range evs {
		if uids[e.uid] {
			out = append(out, e)
		}
	}
	return out
}

// last is the newest n events.
func last(evs []event, n int) []event {
	if len(evs) > n {
		return evs[len(evs)-n:]
	}
	return evs
}

// newEvents are the events of cur that prev did not have, oldest first.
// With no previous poll, only the newest recentEvents count as new: a watch
// started on a busy release shows some context, not an hour of history.
func newEvents(prev *snapshot, cur []event) []event {
	if prev == nil {
		return last(cur, recentEvents)
	}
	seen := make(map[string]bool, len(prev.events))
	for _, e := range prev.events {
		seen[e.key] = true
	}
	var out []event
	for _, e := range cur {
		if !seen[e.key] {
			out = append(out, e)
		}
	}
	return out
}

// eventChanges is what a log gets of the events in cur: a line when they
// became hidden, and a line per new event.
func eventChanges(prev *snapshot, cur snapshot, now time.Time) string {
	var b strings.Builder
	if cur.eventsNote != "" && (prev == nil || prev.eventsNote != cur.eventsNote) {
		b.WriteString(stamp(now, "events "+cur.eventsNote))
	}
	for _, e := range newEvents(prev, cur.events) {
		b.WriteString(eventLine(e, now.Location()) + "\n")
	}
	return b.String()
}

// eventLine is one event as a log line: time, type, reason, release and
// message.
func eventLine(e event, loc *time.Location) string {
	return fmt.Sprintf("%s %s %s %s: %s%s", e.time.In(loc).Format(clock), e.typ, e.reason, e.release, e.message, times(e.count))
}

// times marks an event that occurred more than once.
func times(count int32) string {
	if count > 1 {
		return fmt.Sprintf(" (x%d)", count)
	}
	return ""
}

// eventTable writes the newest events as a table, with the release column
// when withRelease, or note when events cannot be shown.
func eventTable(b *strings.Builder, evs []event, note string, withRelease bool, loc *time.Location) {
	if note != "" {
		fmt.Fprintf(b, "Events: %s\n", note)
		return
	}
	if len(evs) == 0 {
		b.WriteString("Events: none\n")
		return
	}
	b.WriteString("Events:\n")
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, e := range last(evs, recentEvents) {
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t", e.time.In(loc).Format(clock), e.typ, e.reason)
		if withRelease {
			_, _ = fmt.Fprintf(tw, "%s\t", e.release)
		}
		_, _ = fmt.Fprintf(tw, "%s%s\n", e.message, times(e.count))
	}
	_ = tw.Flush()
}
