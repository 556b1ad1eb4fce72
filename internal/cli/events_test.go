package cli

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// corev1Ref is the reference the recorder writes for a release.
func corev1Ref(r release) corev1.ObjectReference {
	o := r.object()
	kind := "Canary"
	if r.blueGreen != nil {
		kind = "BlueGreen"
	}
	return corev1.ObjectReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: kind,
		Namespace: o.GetNamespace(), Name: o.GetName(), UID: o.GetUID(), ResourceVersion: o.GetResourceVersion()}
}

func TestEventOfReadsAnEventAsTheRecorderWroteIt(t *testing.T) {
	cn := podinfo()
	base := eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo.1", UID: "e1", CreationTimestamp: metav1.NewTime(t0.Add(time.Minute))},
		EventTime:  metav1.NewMicroTime(t0),
		Regarding:  corev1Ref(cn),
		Type:       "Warning", Reason: "RolledBack", Note: "error-rate 0.07\nabove 0.05",
	}
	for _, tc := range []struct {
		name   string
		change func(*eventsv1.Event)
		key    string
		time   time.Time
		count  int32
	}{
		{"a single event at its eventTime", func(*eventsv1.Event) {}, "e1/1", t0, 1},
		{"a series at its last occurrence, counted", func(e *eventsv1.Event) {
			e.Series = &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(t0.Add(9 * time.Second))}
		}, "e1/3", t0.Add(9 * time.Second), 3},
		{"an event written through core/v1, repeated", func(e *eventsv1.Event) {
			e.EventTime = metav1.MicroTime{}
			e.DeprecatedFirstTimestamp, e.DeprecatedLastTimestamp = metav1.NewTime(t0), metav1.NewTime(t0.Add(5*time.Second))
			e.DeprecatedCount = 2
		}, "e1/2", t0.Add(5 * time.Second), 2},
		{"an event written through core/v1 once", func(e *eventsv1.Event) {
			e.EventTime = metav1.MicroTime{}
			e.DeprecatedFirstTimestamp, e.DeprecatedLastTimestamp = metav1.NewTime(t0.Add(2*time.Second)), metav1.NewTime(t0.Add(2*time.Second))
			e.DeprecatedCount = 1
		}, "e1/1", t0.Add(2 * time.Second), 1},
		{"an event with no time at all, at its creation", func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} },
			"e1/1", t0.Add(time.Minute), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			e := base.DeepCopy()
			tc.change(e)
			got := eventOf(e)
			g.Expect(got.key).To(Equal(tc.key))
			g.Expect(got.time).To(BeTemporally("==", tc.time))
			g.Expect(got.count).To(Equal(tc.count))
			g.Expect(got.release).To(Equal("canary shop/podinfo"))
			g.Expect(got.message).To(Equal("error-rate 0.07 above 0.05"), "one line, whatever the note")
		})
	}
}

func TestEventsAreOrderedByTimeThenName(t *testing.T) {
	g := NewWithT(t)
	cn := podinfo()
	evs := []event{ev(cn, 5, "Normal", "B", ""), ev(cn, 1, "Normal", "A", ""), ev(cn, 5, "Normal", "C", "")}
	evs[2].name = "podinfo.0"
	sortEvents(evs)
	g.Expect([]string{evs[0].reason, evs[1].reason, evs[2].reason}).To(Equal([]string{"A", "C", "B"}))
}

func TestNewEventsAreThoseNotSeenBefore(t *testing.T) {
	g := NewWithT(t)
	cn := podinfo()
	a, b := ev(cn, 1, "Normal", "StepAdvanced", "1"), ev(cn, 2, "Normal", "StepAdvanced", "2")
	prev := &snapshot{events: []event{a, b}}
	g.Expect(newEvents(prev, []event{a, b})).To(BeEmpty())
	c := ev(cn, 3, "Warning", "RolledBack", "3")
	g.Expect(newEvents(prev, []event{b, c})).To(Equal([]event{c}), "an event gone from the list is not news either")

	again := b
	again.key, again.count = "ev-podinfo-2/2", 2
	g.Expect(newEvents(prev, []event{a, again})).To(Equal([]event{again}), "a repeat folded into a series is a new occurrence")
	g.Expect(eventLine(again, time.UTC)).To(Equal("17:20:02 Normal StepAdvanced canary shop/podinfo: 2 (x2)"))
}

func TestAboutKeepsTheEventsOfTheShownReleases(t *testing.T) {
	g := NewWithT(t)
	cn, bg := podinfo(), checkout()
	mine, theirs := ev(cn, 1, "Normal", "StepAdvanced", ""), ev(bg, 2, "Normal", "ServiceSwitched", "")
	g.Expect(about([]event{mine, theirs}, []release{cn})).To(Equal([]event{mine}))

	recreated := podinfo(func(c *v1alpha1.Canary) { c.UID = "uid-podinfo-2" })
	g.Expect(about([]event{mine}, []release{recreated})).To(BeEmpty(), "events of a deleted namesake are not this release's")
}
