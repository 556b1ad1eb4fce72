package cli

import (
	"context"
	"errors"
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
	// Watch re-prints the summary whenever the release changes, until ctx
	// ends.
	Watch bool
	// Terminal clears the screen before each re-print; otherwise each print
	// is a plain block after a separator line, fit for a log.
	Terminal bool
	// Interval between polls when watching; two seconds when zero.
	Interval time.Duration
	// Now is the clock ages are measured from; time.Now when nil.
	Now func() time.Time
}

// clearScreen moves the cursor home and clears a terminal.
const clearScreen = "\x1b[H\x1b[2J"

// Status writes a readable summary of one release; with o.Watch it
// re-prints it on every change until ctx ends.
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
		return render(w, r, now())
	}
	interval := o.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	seen := ""
	for {
		if v := r.object().GetResourceVersion(); v != seen {
			seen = v
			if err := renderWatched(w, r, now(), o.Terminal); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		if r, err = find(ctx, c, o.Namespace, o.Name, r.kind()); err != nil {
			if errors.Is(ctx.Err(), context.Canceled) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil
			}
			return err
		}
	}
}

func renderWatched(w io.Writer, r release, now time.Time, terminal bool) error {
	prefix := fmt.Sprintf("--- %s ---\n", now.UTC().Format(time.RFC3339))
	if terminal {
		prefix = clearScreen
	}
	if _, err := io.WriteString(w, prefix); err != nil {
		return err
	}
	return render(w, r, now)
}

// render writes the summary of a release.
func render(w io.Writer, r release, now time.Time) error {
	var b strings.Builder
	if r.canary != nil {
		renderCanary(&b, r.canary, now)
	} else {
		renderBlueGreen(&b, r.blueGreen, now)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderCanary(b *strings.Builder, cn *v1alpha1.Canary, now time.Time) {
	st := cn.Status
	fmt.Fprintf(b, "Canary %s/%s\n", cn.Namespace, cn.Name)
	fmt.Fprintf(b, "Phase:      %s\n", canaryPhase(st))
	fmt.Fprintf(b, "Revisions:  stable %s  canary %s\n", short(st.StableRevision), short(st.CanaryRevision))
	fmt.Fprintf(b, "Weight:     %s\n", weightBar(st.CanaryWeight))
	fmt.Fprintf(b, "Step:       %s\n", canaryStep(cn.Spec.Steps, st, now))
	if st.AbortedAt != nil {
		fmt.Fprintf(b, "Aborted:    %s (%s)\n", ago(st.AbortedAt, now), st.AbortReason)
	}
	renderAnalysis(b, cn.Spec.Analysis, st.Analysis, now)
	renderTail(b, st.Conditions, st.LastCommand, st.History, now)
}

// canaryStep describes the current step: its index, what it does and how
// long it has held.
func canaryStep(steps []v1alpha1.CanaryStep, st v1alpha1.CanaryStatus, now time.Time) string {
	i := int(st.CurrentStep)
	if st.CanaryRevision == "" || st.CanaryRevision == st.StableRevision {
		return "- (no release in flight)"
	}
	if i >= len(steps) {
		return fmt.Sprintf("%d/%d (every step passed)", len(steps), len(steps))
	}
	s := steps[i]
	what := "pause until promoted"
	switch {
	case s.SetWeight != nil:
		what = fmt.Sprintf("setWeight %d", *s.SetWeight)
	case s.Pause != nil && s.Pause.Duration != nil:
		what = "pause " + s.Pause.Duration.Duration.String()
	}
	started := "not started"
	if st.StepStartedAt != nil {
		started = "started " + ago(st.StepStartedAt, now)
	}
	return fmt.Sprintf("%d/%d %s (%s)", i+1, len(steps), what, started)
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
	renderAnalysis(b, rollout.BlueGreenAnalysis(bg.Spec, st), st.Analysis, now)
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
			value := res.Value
			if value == "" {
				value = "-"
			}
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", res.Name, value, metricThreshold(spec, res.Name), res.Outcome, res.Message)
		}
		_ = tw.Flush()
	}
	if j := st.Judge; j != nil {
		fmt.Fprintf(b, "Judge:      %s", j.Decision)
		if j.Summary != "" {
			fmt.Fprintf(b, ": %s", j.Summary)
		}
		b.WriteString("\n")
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
				ago(&d.Time, now), d.Reason, short(d.Revision), d.Step, d.Weight, d.Message)
		}
		_ = tw.Flush()
	}
}
