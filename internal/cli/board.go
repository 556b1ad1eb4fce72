package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// board is the view of several releases at once: a compact block per
// release and their events merged by time; in a log, one line per change of
// a release's summary and one per new event. Times on the board are times
// of day, not ages, so an unchanged release draws the same block.
type board struct {
	// empty is what the board says when no release is shown.
	empty string
}

var _ view = board{}

func (v board) frame(s snapshot, now time.Time) string {
	var b strings.Builder
	if s.header != "" {
		b.WriteString(strings.TrimSuffix(s.header, "\n") + "\n\n")
	}
	if len(s.releases) == 0 {
		b.WriteString(v.empty + "\n")
	}
	for _, r := range s.releases {
		if r.canary != nil {
			canaryBlock(&b, r.canary, now.Location())
		} else {
			blueGreenBlock(&b, r.blueGreen, now.Location())
		}
		b.WriteString("\n")
	}
	eventTable(&b, s.events, s.eventsNote, true, now.Location())
	return b.String()
}

func (v board) changes(prev *snapshot, cur snapshot, now time.Time) string {
	var b strings.Builder
	var before snapshot
	if prev != nil {
		before = *prev
	}
	b.WriteString(stamp(now, changedLines(before.header, cur.header)...))
	b.WriteString(eventChanges(prev, cur, now))
	was := make(map[string]string, len(before.releases))
	for _, r := range before.releases {
		was[r.String()] = summaryLine(r)
	}
	for _, r := range cur.releases {
		if line := summaryLine(r); was[r.String()] != line {
			b.WriteString(stamp(now, line))
		}
		delete(was, r.String())
	}
	for _, r := range before.releases {
		if _, gone := was[r.String()]; gone {
			b.WriteString(stamp(now, r.String()+" deleted"))
		}
	}
	return b.String()
}

// changedLines are the lines of cur that differ from the line at the same
// place in prev.
func changedLines(prev, cur string) []string {
	if cur == prev {
		return nil
	}
	old := strings.Split(strings.TrimSuffix(prev, "\n"), "\n")
	var out []string
	for i, l := range strings.Split(strings.TrimSuffix(cur, "\n"), "\n") {
		if l != "" && (i >= len(old) || old[i] != l) {
			out = append(out, l)
		}
	}
	return out
}

// canaryBlock writes a Canary's block: kind and name, phase, the stable
// revision (-> the one being released); weight bar and step; metrics
// against thresholds; the judge's evidence.
func canaryBlock(b *strings.Builder, cn *v1alpha1.Canary, loc *time.Location) {
	st := cn.Status
	fmt.Fprintf(b, "canary %s/%s  %s  revision %s", cn.Namespace, cn.Name, canaryPhase(st), short(st.StableRevision))
	if st.CanaryRevision != "" && st.CanaryRevision != st.StableRevision {
		fmt.Fprintf(b, " -> %s", short(st.CanaryRevision))
	}
	b.WriteString("\n")
	started := "not started"
	if st.StepStartedAt != nil {
		started = "since " + st.StepStartedAt.In(loc).Format(clock)
	}
	fmt.Fprintf(b, "  weight %s  step %s\n", weightBar(st.CanaryWeight), stepOf(cn.Spec.Steps, st, started))
	aborted(b, st.AbortedAt, st.AbortReason, loc)
	analysisBlock(b, canaryAnalysis(cn), st.Analysis)
}

// blueGreenBlock is canaryBlock for a BlueGreen: active color and stage
// instead of weight and step.
func blueGreenBlock(b *strings.Builder, bg *v1alpha1.BlueGreen, loc *time.Location) {
	st := bg.Status
	fmt.Fprintf(b, "bluegreen %s/%s  %s  active %s  revision %s", bg.Namespace, bg.Name, blueGreenPhase(st),
		orDash(string(st.ActiveColor)), short(st.ActiveRevision))
	if st.PreviewRevision != "" && st.PreviewRevision != st.ActiveRevision {
		fmt.Fprintf(b, " -> %s", short(st.PreviewRevision))
	}
	b.WriteString("\n")
	fmt.Fprintf(b, "  stage %s\n", blueGreenStage(st))
	aborted(b, st.AbortedAt, st.AbortReason, loc)
	analysisBlock(b, blueGreenAnalysis(bg), st.Analysis)
}

func aborted(b *strings.Builder, at *metav1.Time, reason string, loc *time.Location) {
	if at != nil {
		fmt.Fprintf(b, "  aborted at %s: %s\n", at.In(loc).Format(clock), reason)
	}
}

// analysisBlock writes the latest value of each metric against its
// threshold, then the judge's decision and evidence.
func analysisBlock(b *strings.Builder, spec *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus) {
	if st == nil {
		if spec != nil {
			b.WriteString("  analysis: no check yet\n")
		}
		return
	}
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, res := range st.Results {
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", res.Name, metricValue(res.Value), metricThreshold(spec, res.Name), res.Outcome)
	}
	_ = tw.Flush()
	if j := st.Judge; j != nil {
		fmt.Fprintf(b, "  judge %s\n", j.Decision)
		judgeEvidence(b, "    ", judgeSpec(spec), j)
	}
}

// summaryLine is a release in one line, without the time: what a log gets
// when it changes.
func summaryLine(r release) string {
	var b strings.Builder
	b.WriteString(r.String())
	var spec *v1alpha1.Analysis
	var st *v1alpha1.AnalysisStatus
	if cn := r.canary; cn != nil {
		fmt.Fprintf(&b, " %s step %s weight %d%%",
			canaryPhase(cn.Status), canaryStepCount(cn.Spec.Steps, cn.Status), cn.Status.CanaryWeight)
		spec, st = canaryAnalysis(cn), cn.Status.Analysis
	} else {
		bg := r.blueGreen
		fmt.Fprintf(&b, " %s active %s stage %s",
			blueGreenPhase(bg.Status), orDash(string(bg.Status.ActiveColor)), blueGreenStage(bg.Status))
		spec, st = blueGreenAnalysis(bg), bg.Status.Analysis
	}
	if st == nil {
		return b.String()
	}
	for _, res := range st.Results {
		fmt.Fprintf(&b, " %s=%s (%s)", res.Name, metricValue(res.Value), metricThreshold(spec, res.Name))
		if res.Outcome != v1alpha1.OutcomePassed {
			fmt.Fprintf(&b, " %s", res.Outcome)
		}
	}
	if st.Judge != nil {
		b.WriteString(" " + judgeBrief(judgeSpec(spec), st.Judge))
	}
	return b.String()
}

// judgeSpec is the judge an analysis configures, if any.
func judgeSpec(a *v1alpha1.Analysis) *v1alpha1.Judge {
	if a == nil {
		return nil
	}
	return a.Judge
}

// orDash is s, or "-" when s is empty.
// metricValue shows a metric's value to four significant digits, "-" when
// there is none; status keeps it whole.
func metricValue(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	return orDash(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
