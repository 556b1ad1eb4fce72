package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// StatusOptions says which release `status` shows and how.
type StatusOptions struct {
	// Namespace and Name of the release.
	Namespace, Name string
	// Kind disambiguates a name used by a Canary and a BlueGreen.
	Kind Kind
	// Watch shows the release live until ctx ends: its summary whenever it
	// changes, and each new Event.
	Watch bool
	// Terminal redraws the summary and the latest Events in place;
	// otherwise each new Event is a line and each change of the release a
	// block after a separator line, fit for a log.
	Terminal bool
	// Interval between polls when watching; two seconds when zero.
	Interval time.Duration
	// Now is the clock ages are measured from; time.Now when nil.
	Now func() time.Time
}

// Status writes a readable summary of one release and its latest events;
// with o.Watch it shows them live until ctx ends: on a terminal the summary
// is redrawn in place when the release changes or an event arrives,
// otherwise each new event is a line and each change of the release a block
// after a "--- <time> ---" line.
func Status(ctx context.Context, w io.Writer, c client.Client, o StatusOptions) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	r, err := find(ctx, c, o.Namespace, o.Name, o.Kind)
	if err != nil {
		return err
	}
	if !o.Watch {
		s, err := releaseSnapshot(ctx, c, r)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, details{}.frame(s, now()))
		return err
	}
	interval := o.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	poll := func(ctx context.Context) (snapshot, error) {
		r, err := find(ctx, c, o.Namespace, o.Name, r.kind())
		if err != nil {
			return snapshot{}, err
		}
		return releaseSnapshot(ctx, c, r)
	}
	return live(ctx, w, &screen{view: details{}, terminal: o.Terminal}, interval, now, poll)
}

// releaseSnapshot is one release and the events about it.
func releaseSnapshot(ctx context.Context, c client.Client, r release) (snapshot, error) {
	obj := r.object()
	evs, note, err := listEvents(ctx, c, obj.GetNamespace(), client.MatchingFields{"regarding.uid": string(obj.GetUID())})
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{releases: []release{r}, events: about(evs, []release{r}), eventsNote: note}, nil
}

// details is the view of one release: everything `status` prints, then
// its latest events.
type details struct{}

var _ view = details{}

func (details) frame(s snapshot, now time.Time) string {
	var b strings.Builder
	for _, r := range s.releases {
		summary(&b, r, now)
	}
	eventTable(&b, s.events, s.eventsNote, false, now.Location())
	return b.String()
}

// changes prints each new event as a line, and the whole summary again,
// after a line with the time, whenever the release changed.
func (details) changes(prev *snapshot, cur snapshot, now time.Time) string {
	var b strings.Builder
	b.WriteString(eventChanges(prev, cur, now))
	if prev == nil || resourceVersions(prev.releases) != resourceVersions(cur.releases) {
		fmt.Fprintf(&b, "--- %s ---\n", now.UTC().Format(time.RFC3339))
		for _, r := range cur.releases {
			summary(&b, r, now)
		}
	}
	return b.String()
}

// resourceVersions identifies the state of some releases.
func resourceVersions(rs []release) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String() + "@" + r.object().GetResourceVersion() + "\n")
	}
	return b.String()
}

// summary writes the summary of a release.
func summary(b *strings.Builder, r release, now time.Time) {
	if r.canary != nil {
		renderCanary(b, r.canary, now)
	} else {
		renderBlueGreen(b, r.blueGreen, now)
	}
}

func renderCanary(b *strings.Builder, cn *v1alpha1.Canary, now time.Time) {
	st := cn.Status
	fmt.Fprintf(b, "Canary %s/%s\n", cn.Namespace, cn.Name)
	fmt.Fprintf(b, "Phase:      %s\n", canaryPhase(st))
	fmt.Fprintf(b, "Revisions:  stable %s  canary %s\n", short(st.StableRevision), short(st.CanaryRevision))
	fmt.Fprintf(b, "Weight:     %s\n", weightBar(st.CanaryWeight))
	started := "not started"
	if st.StepStartedAt != nil {
		started = "started " + ago(st.StepStartedAt, now)
	}
	fmt.Fprintf(b, "Step:       %s\n", stepOf(cn.Spec.Steps, st, started))
	if st.AbortedAt != nil {
		fmt.Fprintf(b, "Aborted:    %s (%s)\n", ago(st.AbortedAt, now), st.AbortReason)
	}
	renderAnalysis(b, canaryAnalysis(cn), st.Analysis, now)
	renderTail(b, st.Conditions, st.LastCommand, st.History, now)
}

// canaryAnalysis is the analysis a view shows a Canary's results against:
// the one pinned in status for the revision in flight (a template's, with
// its thresholds and judge), else the Canary's own.
func canaryAnalysis(cn *v1alpha1.Canary) *v1alpha1.Analysis {
	return pinnedOr(cn.Spec.Analysis, cn.Status.PinnedAnalyses, "analysis", cn.Status.CanaryRevision)
}

// blueGreenAnalysis is canaryAnalysis for the BlueGreen phase whose checks
// run now (rollout.BlueGreenAnalysis).
func blueGreenAnalysis(bg *v1alpha1.BlueGreen) *v1alpha1.Analysis {
	field := "prePromotionAnalysis"
	if bg.Status.SwitchedAt != nil {
		field = "postPromotionAnalysis"
	}
	return pinnedOr(rollout.BlueGreenAnalysis(bg.Spec, bg.Status), bg.Status.PinnedAnalyses, field, bg.Status.PreviewRevision)
}

// pinnedOr returns the analysis pinned for field and revision when own
// refers to a template, else own.
func pinnedOr(own *v1alpha1.Analysis, pins []v1alpha1.PinnedAnalysis, field, revision string) *v1alpha1.Analysis {
	if own == nil || own.TemplateRef == nil {
		return own
	}
	for i := range pins {
		if pins[i].Field == field && pins[i].Revision == revision {
			return &pins[i].Analysis
		}
	}
	return own
}

// stepOf describes the current step: its index, what it does (see
// rollout.CanaryProgressOf), and started (when it started).
func stepOf(steps []v1alpha1.CanaryStep, st v1alpha1.CanaryStatus, started string) string {
	switch p := rollout.CanaryProgressOf(steps, st); {
	case !p.InFlight:
		return "- (no release in flight)"
	case p.Done:
		return fmt.Sprintf("%d/%d (every step passed)", p.Step, p.Steps)
	default:
		return fmt.Sprintf("%d/%d %s (%s)", p.Step, p.Steps, p.What, started)
	}
}

func renderBlueGreen(b *strings.Builder, bg *v1alpha1.BlueGreen, now time.Time) {
	st := bg.Status
	fmt.Fprintf(b, "BlueGreen %s/%s\n", bg.Namespace, bg.Name)
	fmt.Fprintf(b, "Phase:      %s\n", blueGreenPhase(st))
	fmt.Fprintf(b, "Revisions:  active %s  preview %s\n", short(st.ActiveRevision), short(st.PreviewRevision))
	active := string(st.ActiveColor)
	if active == "" {
		active = "-"
	}
	fmt.Fprintf(b, "Active:     %s\n", active)
	fmt.Fprintf(b, "Stage:      %s\n", blueGreenStage(st))
	if st.AbortedAt != nil {
		fmt.Fprintf(b, "Aborted:    %s (%s)\n", ago(st.AbortedAt, now), st.AbortReason)
	}
	renderAnalysis(b, blueGreenAnalysis(bg), st.Analysis, now)
	renderTail(b, st.Conditions, st.LastCommand, st.History, now)
}

// renderAnalysis writes the latest result of each metric against its
// threshold, and the judge's summary.
func renderAnalysis(b *strings.Builder, spec *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus, now time.Time) {
	if st == nil {
		if spec != nil {
			b.WriteString("Analysis:   no check yet\n")
		}
		return
	}
	fmt.Fprintf(b, "Analysis:   %d checks, %d passed, %d failures, last %s\n",
		st.Checks, st.Passed, st.Failures, ago(st.LastCheckAt, now))
	if len(st.Results) > 0 {
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		_, _ = fmt.Fprintln(tw, "  METRIC\tVALUE\tTHRESHOLD\tOUTCOME\tMESSAGE")
		for _, res := range st.Results {
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", res.Name, metricValue(res.Value), metricThreshold(spec, res.Name), res.Outcome, res.Message)
		}
		_ = tw.Flush()
	}
	if j := st.Judge; j != nil {
		fmt.Fprintf(b, "Judge:      %s", j.Decision)
		if j.Summary != "" {
			fmt.Fprintf(b, ": %s", j.Summary)
		}
		b.WriteString("\n")
		judgeEvidence(b, "  ", judgeSpec(spec), j)
	}
}

// metricThreshold is the passing range the spec sets for a metric.
func metricThreshold(spec *v1alpha1.Analysis, name string) string {
	if spec != nil {
		for _, m := range spec.Metrics {
			if m.Name == name {
				return threshold(m.ThresholdRange.Min, m.ThresholdRange.Max)
			}
		}
	}
	return "-"
}

// renderTail writes conditions, the last command and the last decisions.
func renderTail(b *strings.Builder, conds []metav1.Condition, last *v1alpha1.CommandStatus, history []v1alpha1.DecisionRecord, now time.Time) {
	if len(conds) > 0 {
		b.WriteString("Conditions:\n")
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		for _, c := range conds {
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, c.Message)
		}
		_ = tw.Flush()
	}
	if last != nil {
		fmt.Fprintf(b, "Last command: %s (id %s) %s: %s\n", last.Name, last.ID, ago(&last.ProcessedAt, now), last.Message)
	}
	if len(history) > 0 {
		b.WriteString("Decisions (newest last):\n")
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		for _, d := range history {
			_, _ = fmt.Fprintf(tw, "  %s\t%s\trevision %s\tstep %d\tweight %d\t%s\n",
				ago(&d.Time, now), d.Reason, short(d.Revision), d.Step+1, d.Weight, d.Message)
		}
		_ = tw.Flush()
	}
}
