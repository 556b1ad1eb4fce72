package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// t0 is when the fixtures' clocks read; the views print times of day.
var t0 = time.Date(2026, 11, 26, 17, 20, 0, 0, time.UTC)

// at is t0 plus some seconds, as an API time.
func at(seconds int) *metav1.Time {
	t := metav1.NewTime(t0.Add(time.Duration(seconds) * time.Second))
	return &t
}

// podinfo is a Canary at step 2 of 3 (weight 10), with an error-rate check
// and the judge's evidence on errors; mutate changes it.
func podinfo(mutate ...func(*v1alpha1.Canary)) release {
	cn := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "podinfo", UID: "uid-podinfo", ResourceVersion: "10"},
		Spec: v1alpha1.CanarySpec{
			Steps: []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](5)}, {SetWeight: ptr.To[int32](10)}, {Pause: &v1alpha1.Pause{}}},
			Analysis: &v1alpha1.Analysis{
				Metrics: []v1alpha1.Metric{{Name: "error-rate", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.05)}}},
				Judge:   &v1alpha1.Judge{Requests: "r", Errors: "e"},
			},
		},
		Status: v1alpha1.CanaryStatus{
			Phase: v1alpha1.PhaseProgressing, StableRevision: "5d8f7c9b4", CanaryRevision: "6c4b8d2a1",
			CurrentStep: 1, CanaryWeight: 10, StepStartedAt: at(-40),
			ReleaseStatus: v1alpha1.ReleaseStatus{Analysis: &v1alpha1.AnalysisStatus{
				Checks: 3, Passed: 3, LastCheckAt: at(-5),
				Results: []v1alpha1.MetricResult{{Name: "error-rate", Outcome: v1alpha1.OutcomePassed, Value: "0.002"}},
				Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeContinue, Threshold: 20, Metrics: []v1alpha1.JudgeMetricStatus{{
					Name: "errors", Observations: 3, RollbackEvidence: 1.3, PromotionEvidence: 0.4,
					Canary:  v1alpha1.CounterSample{Requests: 4000, Events: 12},
					Primary: v1alpha1.CounterSample{Requests: 36000, Events: 90},
				}}},
			}},
		},
	}
	for _, m := range mutate {
		m(cn)
	}
	return release{canary: cn}
}

// checkout is a stable BlueGreen.
func checkout() release {
	return release{blueGreen: &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "checkout", UID: "uid-checkout", ResourceVersion: "7"},
		Status:     v1alpha1.BlueGreenStatus{Phase: v1alpha1.PhaseStable, ActiveColor: v1alpha1.ColorGreen, ActiveRevision: "abc"},
	}}
}

// ev is an event about r, seconds after t0.
func ev(r release, seconds int, typ, reason, msg string) event {
	o := r.object()
	return eventOf(&eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", o.GetName(), seconds), UID: types.UID(fmt.Sprintf("ev-%s-%d", o.GetName(), seconds))},
		EventTime:  metav1.NewMicroTime(t0.Add(time.Duration(seconds) * time.Second)),
		Regarding:  corev1Ref(r),
		Type:       typ, Reason: reason, Note: msg,
	})
}

// versions numbers the fixtures' changes, as the API server would.
var versions = 100

// bumped returns r with the change made and a new resourceVersion.
func bumped(r release, mutate func(*v1alpha1.Canary)) release {
	cn := r.canary.DeepCopy()
	versions++
	cn.ResourceVersion = fmt.Sprint(versions)
	mutate(cn)
	return release{canary: cn}
}

func TestBoardFrameShowsEachReleaseCompactlyThenTheirEventsByTime(t *testing.T) {
	g := NewWithT(t)
	cn, bg := podinfo(), checkout()
	s := snapshot{
		header:   "scenario: release v2 (healthy)\ntraffic: 50 rps",
		releases: []release{bg, cn},
		events: []event{
			ev(cn, -45, "Normal", "StepAdvanced", "step 1 at weight 5"),
			ev(bg, -42, "Normal", "ServiceSwitched", "active color green"),
			ev(cn, -40, "Normal", "StepAdvanced", "step 2 at weight 10"),
		},
	}
	g.Expect(board{}.frame(s, t0)).To(Equal(`scenario: release v2 (healthy)
traffic: 50 rps

bluegreen shop/checkout  Stable  active green  revision abc
  stage -

canary shop/podinfo  Progressing  revision 5d8f7c9b4 -> 6c4b8d2a1
  weight [##..................] 10%  step 2/3 setWeight 10 (since 17:19:20)
  error-rate  0.002  <= 0.05  Passed
  judge Continue
    errors  rollback e=1.3 of 20  canary 12/4000 (0.3%)  primary 90/36000 (0.25%)  3 observations

Events:
  17:19:15  Normal  StepAdvanced     canary shop/podinfo      step 1 at weight 5
  17:19:18  Normal  ServiceSwitched  bluegreen shop/checkout  active color green
  17:19:20  Normal  StepAdvanced     canary shop/podinfo      step 2 at weight 10
`))
}

func TestBoardFrameSaysSoWhenNoReleaseIsShown(t *testing.T) {
	g := NewWithT(t)
	g.Expect(board{empty: "No canaries or bluegreens in namespace shop yet."}.frame(snapshot{}, t0)).
		To(Equal("No canaries or bluegreens in namespace shop yet.\nEvents: none\n"))
}

func TestBoardChangesInALog(t *testing.T) {
	cn := podinfo()
	first := snapshot{header: "scenario: v2", releases: []release{cn}, events: []event{ev(cn, -40, "Normal", "StepAdvanced", "step 2 at weight 10")}}
	later := t0.Add(3 * time.Second)
	for _, tc := range []struct {
		name      string
		prev, cur snapshot
		want      string
	}{
		{
			name: "prints nothing when nothing changed, even with a new resourceVersion",
			prev: first, cur: snapshot{header: first.header, releases: []release{bumped(cn, func(c *v1alpha1.Canary) {
				c.Status.Analysis.LastCheckAt = at(2)
			})}, events: first.events},
			want: "",
		},
		{
			name: "prints one line when a release's summary changed",
			prev: first, cur: snapshot{header: first.header, releases: []release{bumped(cn, func(c *v1alpha1.Canary) {
				c.Status.CurrentStep, c.Status.CanaryWeight = 2, 0
				c.Status.Analysis.Results[0].Value = "0.07"
				c.Status.Analysis.Results[0].Outcome = v1alpha1.OutcomeFailed
			})}, events: first.events},
			want: "17:20:03 canary shop/podinfo Progressing step 3/3 weight 0% error-rate=0.07 (<= 0.05) Failed judge continue e=1.3/20\n",
		},
		{
			name: "prints only the new event, once",
			prev: first, cur: snapshot{header: first.header, releases: first.releases,
				events: append(first.events[:1:1], ev(cn, 2, "Warning", "AnalysisFailed", "error-rate 0.07 above 0.05"))},
			want: "17:20:02 Warning AnalysisFailed canary shop/podinfo: error-rate 0.07 above 0.05\n",
		},
		{
			name: "prints the header lines that changed, with the time",
			prev: first, cur: snapshot{header: "scenario: v3", releases: first.releases, events: first.events},
			want: "17:20:03 scenario: v3\n",
		},
		{
			name: "says when a release is gone",
			prev: first, cur: snapshot{header: first.header, events: first.events},
			want: "17:20:03 canary shop/podinfo deleted\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(board{}.changes(&tc.prev, tc.cur, later)).To(Equal(tc.want))
		})
	}
}

func TestBoardStartsALogWithTheHeaderRecentEventsAndEverySummary(t *testing.T) {
	g := NewWithT(t)
	cn, bg := podinfo(), checkout()
	var evs []event
	for i := range 10 {
		evs = append(evs, ev(cn, -100+i, "Normal", "StepAdvanced", fmt.Sprintf("event %d", i)))
	}
	out := board{}.changes(nil, snapshot{header: "scenario: v2", releases: []release{bg, cn}, events: evs}, t0)
	g.Expect(out).To(Equal(`17:20:00 scenario: v2
17:18:22 Normal StepAdvanced canary shop/podinfo: event 2
17:18:23 Normal StepAdvanced canary shop/podinfo: event 3
17:18:24 Normal StepAdvanced canary shop/podinfo: event 4
17:18:25 Normal StepAdvanced canary shop/podinfo: event 5
17:18:26 Normal StepAdvanced canary shop/podinfo: event 6
17:18:27 Normal StepAdvanced canary shop/podinfo: event 7
17:18:28 Normal StepAdvanced canary shop/podinfo: event 8
17:18:29 Normal StepAdvanced canary shop/podinfo: event 9
17:20:00 bluegreen shop/checkout Stable active green stage -
17:20:00 canary shop/podinfo Progressing step 2/3 weight 10% error-rate=0.002 (<= 0.05) judge continue e=1.3/20
`), "only the newest events: a watch gives context, not an hour of history")
}

func TestScreenOnATerminalRedrawsInPlaceOnlyWhenTheFrameChanged(t *testing.T) {
	g := NewWithT(t)
	cn := podinfo()
	scr := &screen{view: board{}, terminal: true}
	s := snapshot{releases: []release{cn}}

	first := scr.update(s, t0)
	g.Expect(first).To(HavePrefix("\x1b[H\x1b[2J"), "the first frame clears the screen")
	g.Expect(first).To(ContainSubstring("Events: none\x1b[K\n"), "each line clears what is left of the old one")
	g.Expect(first).To(HaveSuffix("\x1b[J"))

	g.Expect(scr.update(s, t0.Add(time.Second))).To(BeEmpty(), "same objects: nothing to draw")
	s.releases = []release{bumped(cn, func(c *v1alpha1.Canary) { c.Status.Analysis.LastCheckAt = at(1) })}
	g.Expect(scr.update(s, t0.Add(2*time.Second))).To(BeEmpty(), "a change the board does not show: nothing to draw")

	s.releases = []release{bumped(cn, func(c *v1alpha1.Canary) { c.Status.CanaryWeight = 50 })}
	next := scr.update(s, t0.Add(3*time.Second))
	g.Expect(next).To(HavePrefix("\x1b[H"))
	g.Expect(next).NotTo(ContainSubstring("\x1b[2J"), "later frames overwrite the old one instead of blanking the screen")
	g.Expect(next).To(ContainSubstring("[##########..........] 50%"))
}

func TestScreenInALogWritesNoTerminalEscapes(t *testing.T) {
	g := NewWithT(t)
	cn := podinfo()
	for _, v := range []view{board{}, details{}} {
		scr := &screen{view: v}
		s := snapshot{releases: []release{cn}, events: []event{ev(cn, -1, "Normal", "StepAdvanced", "step 2 at weight 10")}}
		out := scr.update(s, t0)
		g.Expect(out).To(ContainSubstring("17:19:59 Normal StepAdvanced canary shop/podinfo: step 2 at weight 10\n"))
		g.Expect(out).NotTo(ContainSubstring("\x1b"))
		g.Expect(scr.update(s, t0.Add(time.Second))).To(BeEmpty(), "%T: unchanged, so nothing", v)
	}
}

func TestALogSaysOnceThatEventsAreHidden(t *testing.T) {
	g := NewWithT(t)
	hidden := snapshot{releases: []release{checkout()}, eventsNote: "hidden (not allowed to list events.k8s.io Events)"}
	scr := &screen{view: board{}}
	g.Expect(scr.update(hidden, t0)).To(Equal("17:20:00 events hidden (not allowed to list events.k8s.io Events)\n" +
		"17:20:00 bluegreen shop/checkout Stable active green stage -\n"))
	g.Expect(scr.update(hidden, t0.Add(time.Second))).To(BeEmpty())
}

func TestDetailsInALogPrintEventsAsLinesAndTheSummaryOnChange(t *testing.T) {
	g := NewWithT(t)
	cn := podinfo()
	scr := &screen{view: details{}}
	s := snapshot{releases: []release{cn}}
	first := scr.update(s, t0)
	g.Expect(first).To(HavePrefix("--- 2026-11-26T17:20:00Z ---\nCanary shop/podinfo\n"))
	g.Expect(first).To(ContainSubstring("Step:       2/3 setWeight 10 (started 40s ago)\n"))

	s.events = []event{ev(cn, 1, "Normal", "StepAdvanced", "step 3: pause until promoted")}
	g.Expect(scr.update(s, t0.Add(2*time.Second))).To(Equal(
		"17:20:01 Normal StepAdvanced canary shop/podinfo: step 3: pause until promoted\n"), "a new event alone: no summary")

	s.releases = []release{bumped(cn, func(c *v1alpha1.Canary) { c.Status.CurrentStep = 2 })}
	next := scr.update(s, t0.Add(4*time.Second))
	g.Expect(next).To(HavePrefix("--- 2026-11-26T17:20:04Z ---\nCanary shop/podinfo\n"))
	g.Expect(next).NotTo(ContainSubstring("StepAdvanced"), "the event was printed already")
}

func TestDetailsFrameEndsWithTheLatestEvents(t *testing.T) {
	g := NewWithT(t)
	cn := podinfo()
	f := details{}.frame(snapshot{releases: []release{cn}, events: []event{ev(cn, -40, "Normal", "StepAdvanced", "step 2 at weight 10")}}, t0)
	g.Expect(f).To(ContainSubstring("Judge:      Continue\n" +
		"  errors  rollback e=1.3 of 20  canary 12/4000 (0.3%)  primary 90/36000 (0.25%)  3 observations\n"))
	g.Expect(f).To(HaveSuffix("Events:\n  17:19:20  Normal  StepAdvanced  step 2 at weight 10\n"))

	f = details{}.frame(snapshot{releases: []release{cn}, eventsNote: "hidden (not allowed to list events.k8s.io Events)"}, t0)
	g.Expect(f).To(HaveSuffix("Events: hidden (not allowed to list events.k8s.io Events)\n"))
}

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    release
		want string
	}{
		{"a canary in flight with its metrics and the judge", podinfo(),
			"canary shop/podinfo Progressing step 2/3 weight 10% error-rate=0.002 (<= 0.05) judge continue e=1.3/20"},
		{"a canary without analysis", podinfo(func(c *v1alpha1.Canary) { c.Spec.Analysis, c.Status.Analysis = nil, nil }),
			"canary shop/podinfo Progressing step 2/3 weight 10%"},
		{"a metric with no value yet, and the outcome when it did not pass", podinfo(func(c *v1alpha1.Canary) {
			c.Status.Analysis.Results[0] = v1alpha1.MetricResult{Name: "error-rate", Outcome: v1alpha1.OutcomeNoData}
			c.Status.Analysis.Judge = nil
		}), "canary shop/podinfo Progressing step 2/3 weight 10% error-rate=- (<= 0.05) NoData"},
		{"a canary whose analysis comes from a template, against the thresholds pinned for its revision",
			podinfo(fromTemplate("6c4b8d2a1")),
			"canary shop/podinfo Progressing step 2/3 weight 10% error-rate=0.002 (<= 0.01) judge continue e=1.3/20"},
		{"a canary whose pin is for another revision, which no threshold is known for",
			podinfo(fromTemplate("5d8f7c9b4")),
			"canary shop/podinfo Progressing step 2/3 weight 10% error-rate=0.002 (-) judge continue e=1.3/20"},
		{"a blue-green with its color and stage", checkout(), "bluegreen shop/checkout Stable active green stage -"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(summaryLine(tc.r)).To(Equal(tc.want))
		})
	}
}

// fromTemplate makes the Canary's analysis a reference to a template, with
// the template's analysis (error-rate at most 0.01) pinned for revision.
func fromTemplate(revision string) func(*v1alpha1.Canary) {
	return func(c *v1alpha1.Canary) {
		pinned := *c.Spec.Analysis.DeepCopy()
		pinned.Metrics[0].ThresholdRange.Max = ptr.To(0.01)
		c.Spec.Analysis = &v1alpha1.Analysis{TemplateRef: &v1alpha1.AnalysisTemplateRef{Name: "istio"}}
		c.Status.PinnedAnalyses = []v1alpha1.PinnedAnalysis{{Field: "analysis", Revision: revision,
			Template: "ClusterAnalysisTemplate/istio", Analysis: pinned}}
	}
}

func TestChangedLines(t *testing.T) {
	g := NewWithT(t)
	g.Expect(changedLines("a\nb", "a\nb")).To(BeEmpty())
	g.Expect(changedLines("a\nb", "a\nc\nd")).To(Equal([]string{"c", "d"}))
	g.Expect(changedLines("", "a\n\nb\n")).To(Equal([]string{"a", "b"}), "blank lines are not news")
	g.Expect(strings.Join(changedLines("a\nb", "a"), "")).To(BeEmpty(), "a line gone is not printed")
}
