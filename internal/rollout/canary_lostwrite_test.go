package rollout

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// shellOrder is how a simulated reconciler orders its two writes.
type shellOrder int

const (
	// statusFirst persists the decision, then acts on it (the operator).
	statusFirst shellOrder = iota
	// actionsFirst acts, then persists (the order the operator had before;
	// kept here to show that the property below can fail).
	actionsFirst
)

// lostWriteRun releases a bad v2 through a shell that loses a share of its
// status writes (a conflict) and sometimes dies between its two writes, with
// checks that fail first and then read at random (passed, no data, error).
// It returns a description of the first time the canary weight rose after a
// rollback had taken effect (persisted or acted on), or "".
func lostWriteRun(seed uint64, order shellOrder) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	spec := analysed(canarySpec(weightStep(5), pauseStep(time.Minute), weightStep(25), weightStep(50)))
	spec.Analysis.FailureLimit = 1
	w, persisted := newWorld("v1"), v1alpha1.CanaryStatus{}
	failedOnce := false
	rolledBack, ceiling := false, int32(0)
	for round := range 300 {
		if persisted.StableRevision == "v1" && w.target.Revision == "v1" {
			w.release("v2")
		}
		obs := w.observe(1)
		if AnalysisDue(spec, persisted, w.now) {
			outcome := []v1alpha1.MetricOutcome{v1alpha1.OutcomePassed, v1alpha1.OutcomeNoData,
				v1alpha1.OutcomeError}[rng.IntN(3)]
			if !failedOnce {
				outcome = v1alpha1.OutcomeFailed
			}
			obs.Check = &Check{Results: []v1alpha1.MetricResult{{Name: "error-rate", Outcome: outcome,
				Time: metav1.NewTime(w.now)}}}
		}
		d := Next(spec, persisted, obs)
		lost, died := rng.IntN(100) < 10, rng.IntN(100) < 10
		var acted, wrote bool
		if order == actionsFirst {
			acted, wrote = !died, !lost && !died
		} else {
			wrote, acted = !lost, !lost && !died
		}
		if wrote {
			persisted = d.Status
		}
		if acted {
			applyAll(w, d.Actions)
		}
		if persisted.Analysis != nil && persisted.Analysis.Failures > 0 || acted && obs.Check != nil {
			failedOnce = true
		}
		if !rolledBack && (wrote || acted) && d.Status.AbortedAt != nil && d.Status.CanaryRevision == "v2" {
			// The rollback took effect (persisted, or acted on). The shell
			// may have died before acting: the weight may still be up, but
			// from here it may only go down.
			rolledBack, ceiling = true, w.route.CanaryWeight
		}
		if rolledBack && w.route.CanaryWeight > ceiling {
			return fmt.Sprintf("round %d: weight %d after the rollback of v2 was persisted at %d",
				round, w.route.CanaryWeight, ceiling)
		}
		ceiling = min(ceiling, w.route.CanaryWeight)
		w.settle()
		w.now = w.now.Add(max(d.RequeueAfter, time.Second))
	}
	if !rolledBack {
		return "v2 was never rolled back"
	}
	return ""
}

func applyAll(w *world, actions []CanaryAction) {
	for _, a := range actions {
		w.apply(a)
	}
}

func TestLostStatusWritesNeverForgetARollback(t *testing.T) {
	t.Run("with status written before actions, no seed raises the weight after a rollback", func(t *testing.T) {
		g := NewWithT(t)
		for seed := range uint64(200) {
			g.Expect(lostWriteRun(seed, statusFirst)).To(BeEmpty(), "seed %d", seed)
		}
	})
	t.Run("with actions before status, the same faults do raise it (the property can fail)", func(t *testing.T) {
		g := NewWithT(t)
		violations := 0
		for seed := range uint64(200) {
			if lostWriteRun(seed, actionsFirst) != "" {
				violations++
			}
		}
		t.Logf("%d of 200 seeds raised the weight after a rollback", violations)
		g.Expect(violations).To(BeNumerically(">", 0))
	})
}
