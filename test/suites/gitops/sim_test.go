package gitops

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// sim is what the simulated releases of both kinds share: the clock, the
// outcome of due checks, the object's command annotations, and the loop
// that reconciles until nothing changes.
type sim struct {
	kind        string // "Canary" or "BlueGreen"
	now         time.Time
	outcome     v1alpha1.MetricOutcome // the outcome of due checks
	annotations map[string]string      // the object's command annotations
	// settle makes every pod ready, reconciles once and reports whether
	// that changed nothing.
	settle func(t *testing.T) bool
	// status is the object's status and its conditions.
	status func() (any, []metav1.Condition)
}

// newSim is a simulation of kind at t0 whose checks pass.
func newSim(kind string, settle func(*testing.T) bool, status func() (any, []metav1.Condition)) sim {
	return sim{kind: kind, now: t0, outcome: v1alpha1.OutcomePassed, settle: settle, status: status}
}

// converge reconciles with every pod ready until nothing changes.
func (s *sim) converge(t *testing.T) {
	t.Helper()
	for range 30 {
		if s.settle(t) {
			return
		}
	}
	st, _ := s.status()
	t.Fatalf("the %s did not settle: %+v", s.kind, st)
}

// run sends a command (kept on the object, as the annotation is) and
// converges.
func (s *sim) run(t *testing.T, name v1alpha1.Command, id string) {
	t.Helper()
	if s.annotations == nil {
		s.annotations = map[string]string{}
	}
	s.annotations[v1alpha1.CommandAnnotation(name)] = id
	s.converge(t)
}

// advance moves the clock by d and converges.
func (s *sim) advance(t *testing.T, d time.Duration) {
	t.Helper()
	s.now = s.now.Add(d)
	s.converge(t)
}

// expectReason fails t unless the object is in the state of reason, so
// that a change to the state machine cannot silently test another state.
func (s *sim) expectReason(t *testing.T, reason string) {
	t.Helper()
	_, conds := s.status()
	if got := reasonOf(conds); got != reason {
		t.Fatalf("the %s is in state %q, the test wants %q: %+v", s.kind, got, reason, conds)
	}
}

// stateList gathers the states of one object's life, each named after its
// kind.
type stateList struct {
	kind string
	out  []state
}

// add records obj, whose conditions are conds, in the state name: Argo CD
// reads argo with the message of the condition cond, kstatus reads
// kstatus, Argo CD offers enabled, and applies says which commands the
// machine carries out.
func (l *stateList) add(name string, obj any, conds []metav1.Condition, applies func(v1alpha1.Command) bool,
	argo, cond, kstatus string, enabled ...string) {
	l.out = append(l.out, state{name: l.kind + " " + name, obj: obj, argo: argo,
		argoMessage: message(conds, cond), kstatus: kstatus, enabled: enabled, applies: applies})
}

// addUnobserved records obj, whose generation is set to generation, as
// read before the operator observed its changed spec.
func (l *stateList) addUnobserved(obj metav1.Object, generation int64) {
	obj.SetGeneration(generation)
	l.out = append(l.out, state{name: l.kind + " whose spec changed, not yet observed", obj: obj, argo: "Progressing",
		argoMessage: fmt.Sprintf("Waiting for the Sluice operator to observe generation %d", generation),
		kstatus:     "InProgress"})
}

// reasonOf is the reason of the condition that is True among Stalled, Ready
// and Reconciling.
func reasonOf(conds []metav1.Condition) string {
	for _, typ := range []string{v1alpha1.ConditionStalled, v1alpha1.ConditionReady, v1alpha1.ConditionReconciling} {
		for _, c := range conds {
			if c.Type == typ && c.Status == metav1.ConditionTrue {
				return c.Reason
			}
		}
	}
	return ""
}

// equalJSON compares two values by their JSON, the form status is stored in.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
