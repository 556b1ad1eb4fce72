package scale

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// reportingController is the name Sluice's event recorder reports as.
const reportingController = "sluice"

// Events counts the Events Sluice created, by reason, and the repeats the
// recorder folded into an Event's series (each a count, not a request of
// its own: the recorder patches a series at most twice in 6 minutes).
type Events struct {
	ByReason Writes
	Repeats  float64
}

// sluiceEvents counts the Events Sluice's recorder created in ns since t.
// Each Event object is one POST of the operator's; the API server keeps
// them an hour (kube-apiserver's --event-ttl), longer than a run.
func sluiceEvents(ctx context.Context, k8s client.Client, ns string, since time.Time) (Events, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return Events{}, fmt.Errorf("list Events in %s: %w", ns, err)
	}
	out := Events{ByReason: Writes{}}
	for i := range list.Items {
		e := &list.Items[i]
		if e.ReportingController != reportingController || e.EventTime.Time.Before(since) {
			continue
		}
		out.ByReason[e.Reason]++
		if e.Series != nil && e.Series.Count > 1 {
			out.Repeats += float64(e.Series.Count - 1)
		}
	}
	return out, nil
}

// Total is how many Events were created.
func (e Events) Total() float64 { return e.ByReason.Total() }

// per lists counts divided by n, largest first, as "key=x.y".
func per(w Writes, n float64) string {
	if len(w) == 0 || n <= 0 {
		return "0"
	}
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return w[keys[i]] > w[keys[j]] || w[keys[i]] == w[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.1f", k, w[k]/n))
	}
	return strings.Join(parts, ", ")
}
