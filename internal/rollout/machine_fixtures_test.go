package rollout

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// The fixtures below serve both machines, Next (Canary) and NextBlueGreen:
// the restart property and the table runner that checks it on every row.

// outcome is what the restart property compares of a decision of either
// machine, whose status is an S.
type outcome[S any] struct {
	status  S
	actions any
	events  []Event
	requeue time.Duration
}

// canaryOutcome and blueGreenOutcome are the outcome of a decision.
func canaryOutcome(d CanaryDecision) outcome[v1alpha1.CanaryStatus] {
	return outcome[v1alpha1.CanaryStatus]{d.Status, d.Actions, d.Events, d.RequeueAfter}
}

func blueGreenOutcome(d BlueGreenDecision) outcome[v1alpha1.BlueGreenStatus] {
	return outcome[v1alpha1.BlueGreenStatus]{d.Status, d.Actions, d.Events, d.RequeueAfter}
}

// testedMachine is one of the two state machines as the fixtures drive
// it: its decision function and what the restart property compares of a
// decision.
type testedMachine[Spec, Status, Obs, Decision any] struct {
	next    func(Spec, Status, Obs) Decision
	outcome func(Decision) outcome[Status]
}

// testedCanary is Next; testedBlueGreen is NextBlueGreen.
var (
	testedCanary = testedMachine[v1alpha1.CanarySpec, v1alpha1.CanaryStatus, CanaryObserved,
		CanaryDecision]{Next, canaryOutcome}
	testedBlueGreen = testedMachine[v1alpha1.BlueGreenSpec, v1alpha1.BlueGreenStatus, BlueGreenObserved,
		BlueGreenDecision]{NextBlueGreen, blueGreenOutcome}
)

// expectReplaySafe asserts the restart property of d, decided on spec and
// obs (see expectReplaySafeWith).
func (m testedMachine[Spec, Status, Obs, Decision]) expectReplaySafe(g Gomega, spec Spec, d Decision, obs Obs) {
	expectReplaySafeWith(g, m.outcome(d), func(st Status) outcome[Status] { return m.outcome(m.next(spec, st, obs)) })
}

// run runs each row and checks the restart property on it.
func (m testedMachine[Spec, Status, Obs, Decision]) run(t *testing.T, cases []machineCase[Spec, Status, Obs, Decision]) {
	runMachineCases(t, cases, m.next, m.expectReplaySafe)
}

// expectReplaySafeWith asserts the restart property of d, decided by next
// on some status: d's status fed back to next, directly and through JSON as
// a restarted operator reads it, yields the same status, the same actions
// and no events.
func expectReplaySafeWith[S any](g Gomega, d outcome[S], next func(S) outcome[S]) {
	again := next(d.status)
	g.Expect(again.status).To(Equal(d.status), "status changed on replay")
	g.Expect(again.actions).To(Equal(d.actions), "actions changed on replay")
	g.Expect(again.events).To(BeEmpty(), "events on replay")
	g.Expect(again.requeue).To(Equal(d.requeue), "requeue changed on replay")

	raw, err := json.Marshal(d.status)
	g.Expect(err).NotTo(HaveOccurred())
	var read S
	g.Expect(json.Unmarshal(raw, &read)).To(Succeed())
	g.Expect(equality.Semantic.DeepEqual(read, d.status)).To(BeTrue(), "status does not round-trip through JSON")
	restarted := next(read)
	g.Expect(equality.Semantic.DeepEqual(restarted.status, d.status)).To(BeTrue(), "restarted status differs")
	g.Expect(restarted.actions).To(Equal(d.actions), "restarted actions differ")
	g.Expect(restarted.events).To(BeEmpty(), "events after restart")
}

// machineCase is one row of a table test of a machine: spec, status and
// observation in, the decision checked by expect.
type machineCase[Spec, Status, Obs, Decision any] struct {
	name   string
	spec   Spec
	status Status
	obs    Obs
	expect func(g Gomega, d Decision)
}

// runMachineCases runs each row through next and checks the restart
// property on it with replaySafe.
func runMachineCases[Spec, Status, Obs, Decision any](t *testing.T, cases []machineCase[Spec, Status, Obs, Decision],
	next func(Spec, Status, Obs) Decision, replaySafe func(Gomega, Spec, Decision, Obs)) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			d := next(c.spec, c.status, c.obs)
			c.expect(g, d)
			replaySafe(g, c.spec, d, c.obs)
		})
	}
}

// conditionIn is the condition of type typ in conds, or the zero Condition.
func conditionIn(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// driveUntil runs reconciles of one release object until done says so of
// its status, or 200 reconciles passed (a failure): each reconcile takes
// the status, decides, carries out the actions and returns the new status,
// the events and the requeue; advance then moves the world's clock by the
// requeue, at least a second. It returns the reason of every event.
func driveUntil[S any](g Gomega, st *S, reconcile func(S) (S, []Event, time.Duration), done func(S) bool,
	advance func(time.Duration)) []string {
	var events []string
	for range 200 {
		next, evs, requeue := reconcile(*st)
		events = append(events, eventReasons(evs)...)
		*st = next
		if done(*st) {
			return events
		}
		advance(max(requeue, time.Second))
	}
	g.Expect(false).To(BeTrue(), "no end after 200 reconciles: %+v", *st)
	return events
}
