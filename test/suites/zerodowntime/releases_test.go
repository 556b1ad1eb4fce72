package zerodowntime

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/mesh"
	"github.com/sluice-dev/sluice/test/framework/promserver"
)

// drainDelay is the releases' spec.drainDelay: longer than the mesh's
// refresh (200 ms), as a real one is longer than a proxy's.
const drainDelay = 3 * time.Second

// inParallel runs independent scenarios (each in its own namespace) at
// once and returns when all have ended; a failed assertion in any fails the
// spec.
func inParallel(scenarios ...func()) {
	var wg sync.WaitGroup
	for _, s := range scenarios {
		wg.Go(func() {
			defer GinkgoRecover()
			s()
		})
	}
	wg.Wait()
}

// release is a Canary for a release scenario: steps, the drain delay, and
// each edit applied.
func release(ns, name string, steps []v1alpha1.CanaryStep, edits ...func(*v1alpha1.Canary)) *v1alpha1.Canary {
	c := canary(ns, name)
	c.Spec.Steps = steps
	c.Spec.DrainDelay = &metav1.Duration{Duration: drainDelay}
	for _, edit := range edits {
		edit(c)
	}
	return c
}

// weightThenPause is a 25% step, then a pause of d (nil: until promoted).
func weightThenPause(d *time.Duration) []v1alpha1.CanaryStep {
	p := &v1alpha1.Pause{}
	if d != nil {
		p.Duration = &metav1.Duration{Duration: *d}
	}
	return []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: p}}
}

// stableApp creates the app with a Canary c and waits until the primary
// serves, then starts live traffic through the generated VirtualService.
func stableApp(ns, name string, c *v1alpha1.Canary, edits ...func(*appsv1.Deployment)) *mesh.Mesh {
	newApp(ns, name, "podinfo:v1", 2, edits...)
	Expect(k8s.Create(ctx, c)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(ready(getCanary(ns, name).Status.Conditions)).To(BeTrue())
		g.Expect(getDeployment(ns, name).Status.Replicas).To(BeZero(), "the user's pods are drained")
	}).Should(Succeed())
	m := startTraffic(ns, name, name)
	Eventually(func() int64 { return m.Sent(workload.PrimaryName(name)) }).Should(BeNumerically(">", rate/2))
	return m
}

// settled waits until the release has ended with the primary running image
// at full size, ready and alone (the canary drained to zero pods), and the
// router back at weight 0; then lets a second of traffic flow.
func settled(ns, name, image string) {
	Eventually(func(g Gomega) {
		p := getDeployment(ns, workload.PrimaryName(name))
		g.Expect(p.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
		g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
		g.Expect(p.Status.UpdatedReplicas).To(Equal(workload.DesiredReplicas(p)))
		g.Expect(p.Status.ReadyReplicas).To(Equal(workload.DesiredReplicas(p)))
		g.Expect(p.Status.Replicas).To(Equal(workload.DesiredReplicas(p)), "no pod of the old template is left")
		g.Expect(canaryWeight(ns, name)).To(BeZero())
		g.Expect(getDeployment(ns, name).Status.Replicas).To(BeZero(), "the canary's pods are gone")
	}).WithTimeout(deadline.Scale(2 * time.Minute)).Should(Succeed())
	time.Sleep(time.Second)
}

// commandCanary writes a manual command as kubectl sluice does.
func commandCanary(ns, name string, cmd v1alpha1.Command) {
	c := getCanary(ns, name)
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[v1alpha1.CommandAnnotation(cmd)] = time.Now().Format(time.RFC3339Nano)
	Expect(k8s.Patch(ctx, c, patch)).To(Succeed())
}

// finish measures a scenario, reports it and asserts that no request failed
// in the mesh. It returns the row.
func finish(m *mesh.Mesh, name, scenario string) string {
	failed, row := measure(m, name)
	row = fmt.Sprintf("%s; served by v1 %d, v2 %d, v2-bad %d", row,
		m.SentToImage("v1"), m.SentToImage("v2"), m.SentToImage("v2-bad"))
	report(scenario, row)
	Expect(failed).To(BeZero(), "%s: %s", scenario, row)
	return row
}

// promoteScenario releases v2 through a timed pause to a full promotion.
func promoteScenario(prefix, scenario string, edits ...func(*appsv1.Deployment)) func() {
	return func() {
		const name = "podinfo"
		ns := newNamespace(prefix)
		m := stableApp(ns, name, release(ns, name, weightThenPause(ptr.To(2*time.Second))), edits...)
		setImage(ns, name, "podinfo:v2")
		Eventually(func() *metav1.Time { return getCanary(ns, name).Status.PromotingAt }).ShouldNot(BeNil())
		settled(ns, name, "podinfo:v2")
		Expect(conditionIs(getCanary(ns, name).Status.Conditions, v1alpha1.ConditionPromoted, v1alpha1.ReasonSucceeded)).
			To(BeTrue(), "promoted")
		before := m.SentToImage("v2")
		time.Sleep(time.Second)
		Expect(m.SentToImage("v2")).To(BeNumerically(">", before), "v2 serves after the promotion")
		finish(m, name, scenario)
	}
}

// conditionIs reports whether condition typ is True with reason.
func conditionIs(conds []metav1.Condition, typ, reason string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == metav1.ConditionTrue && c.Reason == reason
		}
	}
	return false
}

// recreate gives the user's Deployment the Recreate strategy.
func recreate(d *appsv1.Deployment) {
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
}

// abortScenario releases v2 and aborts it in phase, once at reaches say so.
func abortScenario(prefix, scenario string, steps []v1alpha1.CanaryStep, phase v1alpha1.Phase,
	at func(*v1alpha1.Canary) bool, edits ...func(*v1alpha1.Canary)) func() {
	return func() {
		const name = "podinfo"
		ns := newNamespace(prefix)
		m := stableApp(ns, name, release(ns, name, steps, edits...))
		setImage(ns, name, "podinfo:v2")
		Eventually(func(g Gomega) {
			c := getCanary(ns, name)
			g.Expect(at(c)).To(BeTrue())
			g.Expect(c.Status.Phase).To(Equal(phase))
		}).WithPolling(50 * time.Millisecond).Should(Succeed())
		commandCanary(ns, name, v1alpha1.CommandAbort)
		Eventually(func() *metav1.Time { return getCanary(ns, name).Status.AbortedAt }).ShouldNot(BeNil())
		settled(ns, name, "podinfo:v1")
		Expect(getCanary(ns, name).Status.AbortReason).To(Equal(v1alpha1.ReasonAborted))
		finish(m, name, scenario)
	}
}

// atWeight reports a Canary whose router carries weight 25 (the step's
// clock started).
func atWeight(c *v1alpha1.Canary) bool {
	return c.Status.StepStartedAt != nil && c.Status.CanaryWeight == 25
}

// primaryRolling reports a promotion that has moved all traffic to the
// canary and given the primary the new template, its pods not all ready.
func primaryRolling(c *v1alpha1.Canary) bool {
	if c.Status.CanaryFullAt == nil {
		return false
	}
	p := getDeployment(c.Namespace, workload.PrimaryName(c.Spec.TargetRef.Name))
	return p.Spec.Template.Spec.Containers[0].Image == "podinfo:v2" && p.Status.UpdatedReplicas < workload.DesiredReplicas(p)
}

// rollbackScenario releases v2-bad; a Prometheus-backed error-rate check
// fails and rolls it back.
func rollbackScenario() {
	const name = "podinfo"
	ns := newNamespace("rollback")
	prom, err := promserver.Run(ctx, promserver.Options{ScrapeInterval: time.Second})
	Expect(err).NotTo(HaveOccurred(), "start Prometheus")
	defer func() { Expect(prom.Stop()).To(Succeed()) }()
	m := stableApp(ns, name, release(ns, name, weightThenPause(nil), withErrorRateCheck(prom.URL())))
	Expect(prom.SetTargets(ctx, m.MetricsAddr())).To(Succeed())
	waitCtx, cancel := context.WithTimeout(ctx, deadline.Scale(30*time.Second))
	defer cancel()
	Expect(prom.WaitForTargets(waitCtx)).To(Succeed())

	setImage(ns, name, "podinfo:v2-bad")
	Eventually(func() *metav1.Time { return getCanary(ns, name).Status.AbortedAt }).ShouldNot(BeNil())
	c := getCanary(ns, name)
	Expect(c.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
	settled(ns, name, "podinfo:v1")
	Expect(m.SentToImage("v2-bad")).To(BeNumerically(">", 0), "the bad version had traffic to be caught by")
	finish(m, name, "Canary: rollback on a failed error-rate check (v2-bad at 25%)")
}

// withErrorRateCheck adds an analysis every 5 s: the canary's error rate,
// read from Prometheus (which scrapes the mesh), at most 5%; one failure
// rolls back.
func withErrorRateCheck(address string) func(*v1alpha1.Canary) {
	const q = `(sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ .Namespace }}",` +
		`destination_workload="{{ .Canary }}",response_code=~"5.."}[{{ .Interval }}])) or vector(0)) / ` +
		`sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ .Namespace }}",` +
		`destination_workload="{{ .Canary }}"}[{{ .Interval }}]))`
	return func(c *v1alpha1.Canary) {
		c.Spec.Analysis = &v1alpha1.Analysis{
			Interval:     &metav1.Duration{Duration: 5 * time.Second},
			FailureLimit: 1,
			Provider: &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: address,
				Timeout: &metav1.Duration{Duration: 2 * time.Second}},
			Metrics: []v1alpha1.Metric{{Name: "error-rate", Query: q, ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.05)}}},
		}
	}
}

// withSlowCheck adds an analysis whose first check is due after ten
// minutes: the step stays in progress (phase Progressing) for the test.
func withSlowCheck(c *v1alpha1.Canary) {
	withErrorRateCheck("http://127.0.0.1:9")(c)
	c.Spec.Analysis.Interval = &metav1.Duration{Duration: 10 * time.Minute}
}

var _ = Describe("A Canary release under live traffic", func() {
	It("fails no request when promoted, rolled back, or aborted in any phase", func() {
		inParallel(
			promoteScenario("promote", "Canary: promotion of a RollingUpdate target"),
			promoteScenario("promote-recreate", "Canary: promotion of a Recreate target", recreate),
			rollbackScenario,
			abortScenario("abort-progressing", "Canary: abort while progressing (weight 25, analysing)",
				weightThenPause(nil), v1alpha1.PhaseProgressing, atWeight, withSlowCheck),
			abortScenario("abort-paused", "Canary: abort while paused (weight 25, timed pause)",
				weightThenPause(ptr.To(time.Hour)), v1alpha1.PhasePaused,
				func(c *v1alpha1.Canary) bool { return c.Status.CurrentStep == 1 && atWeight(c) }),
			abortScenario("abort-promoting", "Canary: abort while promoting (primary rolling to v2)",
				weightThenPause(ptr.To(time.Second)), v1alpha1.PhasePromoting, primaryRolling),
			autoscaledRelease(false),
		)
	})
})
