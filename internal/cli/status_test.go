package cli_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/cli"
)

// analysed gives a Canary an error-rate check with a 1% ceiling.
func analysed(c *v1alpha1.Canary) {
	c.Spec.Analysis = &v1alpha1.Analysis{
		Provider: &v1alpha1.MetricProvider{Address: "http://prometheus:9090"},
		Metrics: []v1alpha1.Metric{{
			Name: "error-rate", Query: "vector(0)", ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)},
		}},
	}
}

// inFlight sets a Canary's status as the operator would at step 2 of 3,
// weight 25, with one metric result and the judge's summary.
func inFlight(cn *v1alpha1.Canary) {
	patch := client.MergeFrom(cn.DeepCopy())
	now := metav1.Now()
	cn.Status = v1alpha1.CanaryStatus{
		Phase: v1alpha1.PhaseProgressing, StableRevision: "5d8f7c9b4", CanaryRevision: "6c4b8d2a1",
		CurrentStep: 2, CanaryWeight: 25, StepStartedAt: &now,
		ReleaseStatus: v1alpha1.ReleaseStatus{
			Analysis: &v1alpha1.AnalysisStatus{
				Checks: 4, Passed: 4, LastCheckAt: &now,
				Results: []v1alpha1.MetricResult{{
					Name: "error-rate", Outcome: v1alpha1.OutcomePassed, Value: "0.0042",
					Message: "0.0042 is within [-Inf, 0.01]", Time: now,
				}},
				Judge: &v1alpha1.JudgeStatus{Decision: v1alpha1.JudgeContinue, Threshold: 40,
					Summary: "canary error rate 1.1x primary; evidence 3 of 40 needed",
					Metrics: []v1alpha1.JudgeMetricStatus{{Name: "errors", Observations: 4, RollbackEvidence: 3,
						Canary: v1alpha1.CounterSample{Requests: 1000, Events: 5}, Primary: v1alpha1.CounterSample{Requests: 9000, Events: 41}}}},
			},
			History: []v1alpha1.DecisionRecord{{Time: now, Reason: "StepAdvanced", Revision: "6c4b8d2a1", Step: 2, Weight: 25,
				Message: "error-rate 0.0042 passed"}},
			Conditions: []metav1.Condition{condition(v1alpha1.ConditionReconciling, metav1.ConditionTrue,
				v1alpha1.ReasonAnalysing, "step 2 at weight 25")},
		},
	}
	Expect(k8s.Status().Patch(ctx, cn, patch)).To(Succeed())
}

// syncBuffer is a buffer a watch writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ = Describe("status", func() {
	It("shows a canary's phase, weight bar, step, metric results against thresholds, judge evidence and decisions", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo", analysed)
		inFlight(cn)

		var out bytes.Buffer
		// Ages are measured from the (whole-second) time status was written,
		// so that they do not depend on how fast the test runs.
		now := func() time.Time { return cn.Status.StepStartedAt.Time }
		Expect(cli.Status(ctx, &out, k8s, cli.StatusOptions{Namespace: ns, Name: "podinfo", Now: now})).To(Succeed())
		s := out.String()
		Expect(s).To(HavePrefix("Canary " + ns + "/podinfo\n"))
		Expect(s).To(ContainSubstring("Phase:      Progressing\n"))
		Expect(s).To(ContainSubstring("Revisions:  stable 5d8f7c9b4  canary 6c4b8d2a1\n"))
		Expect(s).To(ContainSubstring("Weight:     [#####...............] 25%\n"))
		Expect(s).To(ContainSubstring("Step:       3/3 setWeight 50 (started 0s ago)\n"))
		Expect(s).To(MatchRegexp(`(?m)^  error-rate\s+0\.0042\s+<= 0\.01\s+Passed\s+0\.0042 is within`))
		Expect(s).To(ContainSubstring("Judge:      Continue: canary error rate 1.1x primary; evidence 3 of 40 needed\n"))
		Expect(s).To(ContainSubstring("  errors  rollback e=3 of 40  canary 5/1000 (0.5%)  primary 41/9000 (0.46%)  4 observations\n"))
		Expect(s).To(MatchRegexp(`(?m)^  Reconciling\s+True\s+Analysing\s+step 2 at weight 25$`))
		Expect(s).To(MatchRegexp(`(?m)^  0s ago\s+StepAdvanced\s+revision 6c4b8d2a1\s+step 3\s+weight 25\s+error-rate 0.0042 passed$`))
	})

	It("shows a blue-green's active color instead of a weight", func() {
		ns := newNamespace()
		bg := newBlueGreen(ns, "checkout")
		patch := client.MergeFrom(bg.DeepCopy())
		bg.Status = v1alpha1.BlueGreenStatus{Phase: v1alpha1.PhaseStable, ActiveColor: v1alpha1.ColorBlue, ActiveRevision: "abc"}
		Expect(k8s.Status().Patch(ctx, bg, patch)).To(Succeed())

		var out bytes.Buffer
		Expect(cli.Status(ctx, &out, k8s, cli.StatusOptions{Namespace: ns, Name: "checkout"})).To(Succeed())
		Expect(out.String()).To(ContainSubstring("Active:     blue\n"))
		Expect(out.String()).NotTo(ContainSubstring("Weight:"))
	})

	It("re-prints on change when watching, as plain blocks when not on a terminal", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo", analysed)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- cli.Status(wctx, out, k8s, cli.StatusOptions{Namespace: ns, Name: "podinfo", Watch: true,
				Interval: 50 * time.Millisecond})
		}()
		Eventually(out.String).Should(ContainSubstring("Weight:     [....................] 0%"))
		inFlight(cn)
		Eventually(out.String).Should(ContainSubstring("Weight:     [#####...............] 25%"))
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		s := out.String()
		Expect(strings.Count(s, "--- ")).To(Equal(2), "one block per change, none while nothing changed")
		Expect(s).NotTo(ContainSubstring("\x1b["), "no terminal escapes in plain output")
	})
})
