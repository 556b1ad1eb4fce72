package e2e

import (
	"context"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/sandbox"
)

// scenario finds a sandbox scenario by name.
func scenario(name string) sandbox.Scenario {
	s, err := sandbox.Select(name)
	Expect(err).NotTo(HaveOccurred())
	return s[0]
}

// release runs the scenario's release of the given image.
func release(ctx context.Context, sc sandbox.Scenario, image string) sandbox.Result {
	i := slices.IndexFunc(sc.Releases, func(r sandbox.Release) bool { return r.Image == image })
	Expect(i).To(BeNumerically(">=", 0), "scenario %s releases %s", sc.Name, image)
	res, err := runner.Release(ctx, sc.Releases[i])
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("%s: %s after %s; %s\n", res.Release, res.Got, res.Took, sandbox.Explain(res))
	return res
}

// expectServedOnlyBy checks that the live traffic measured after the
// outcome went to one image tag.
func expectServedOnlyBy(res sandbox.Result, tag string) {
	var total int64
	for _, n := range res.Served {
		total += n
	}
	Expect(total).To(BeNumerically(">", 100), "enough live traffic measured after the outcome: %v", res.Served)
	Expect(res.Served).To(HaveKeyWithValue(tag, total), "every request after the outcome is served by %s", tag)
}

// expectWeightsWithinSteps checks the canary weights the VirtualService
// carried: only step weights, never decreasing while the release ran, never
// above the step after the last one passed, and zero at the end.
func expectWeightsWithinSteps(res sandbox.Result) {
	Expect(res.Weights).NotTo(BeEmpty())
	Expect(res.Weights[len(res.Weights)-1]).To(BeZero(), "all traffic back on the primary at the end")
	ceiling := int32(0)
	for _, w := range res.Steps {
		if w > res.PassedWeight {
			ceiling = w
			break
		}
	}
	if ceiling == 0 {
		ceiling = res.PassedWeight // every step passed
	}
	running := res.Weights[:len(res.Weights)-1]
	for i, w := range running {
		Expect(append([]int32{0}, res.Steps...)).To(ContainElement(w), "weight %d is a step's weight", w)
		Expect(w).To(BeNumerically("<=", ceiling), "weight %d above the step in force (last passed %d%%)", w, res.PassedWeight)
		if i > 0 {
			Expect(w).To(BeNumerically(">=", running[i-1]), "the weight only goes up while the release runs: %v", res.Weights)
		}
	}
}

var _ = Describe("The canary scenario", Ordered, func() {
	sc := scenario("canary")

	BeforeAll(func(ctx SpecContext) {
		Expect(runner.Install(ctx, sc)).To(Succeed())
	}, NodeTimeout(sandboxTimeout))

	It("promotes the healthy v2 step by step, and v2 then serves all live traffic", func(ctx SpecContext) {
		res := release(ctx, sc, "v2")
		Expect(res.Got).To(Equal(sandbox.Promoted), "reason %q, judge %s: %s", res.Reason, res.Judge, res.JudgeSummary)
		Expect(res.Steps).To(Equal([]int32{5, 25, 50}))
		Expect(res.Weights).To(Equal([]int32{0, 5, 25, 50, 0}), "every step's weight in turn, then the primary takes over")
		Expect(res.Judge).NotTo(Equal(v1alpha1.JudgeRollback))
		expectServedOnlyBy(res, "v2")
	}, NodeTimeout(sandboxTimeout))

	It("rolls back v3-bad on its thresholds, naming the failing metric, and v2 keeps serving", func(ctx SpecContext) {
		res := release(ctx, sc, "v3-bad")
		Expect(res.Got).To(Equal(sandbox.RolledBack))
		Expect(res.Reason).To(Equal(v1alpha1.ReasonAnalysisFailed))
		Expect(res.FailedMetrics).To(ContainElement("latency-p99-ms"), "v3-bad answers in 150-400 ms; the ceiling is 250")
		expectWeightsWithinSteps(res)
		expectServedOnlyBy(res, "v2")
	}, NodeTimeout(sandboxTimeout))

	It("rolls back v4-flaky on the judge's evidence, inside the thresholds, and v2 keeps serving", func(ctx SpecContext) {
		res := release(ctx, sc, "v4-flaky")
		Expect(res.Got).To(Equal(sandbox.RolledBack))
		Expect(res.Judge).To(Equal(v1alpha1.JudgeRollback), "the judge decided: %s", res.JudgeSummary)
		Expect(res.FailedMetrics).To(BeEmpty(), "5%% errors stay under the 15%% ceiling")
		expectWeightsWithinSteps(res)
		expectServedOnlyBy(res, "v2")
	}, NodeTimeout(sandboxTimeout))
})

var _ = Describe("The blue-green scenario", Ordered, func() {
	sc := scenario("bluegreen")

	BeforeAll(func(ctx SpecContext) {
		Expect(runner.Install(ctx, sc)).To(Succeed())
	}, NodeTimeout(sandboxTimeout))

	It("never flips to v2-bad, which fails its pre-promotion tests, and v1 keeps serving", func(ctx SpecContext) {
		res := release(ctx, sc, "v2-bad")
		Expect(res.Got).To(Equal(sandbox.RolledBack))
		Expect(res.Reason).To(BeElementOf(v1alpha1.ReasonHookFailed, v1alpha1.ReasonAnalysisFailed))
		Expect(res.Colours).To(Equal([]string{"blue"}), "the live Service never left blue")
		expectServedOnlyBy(res, "v1")
	}, NodeTimeout(sandboxTimeout))

	It("flips to v2 in one write once its tests pass, and v2 then serves all live traffic", func(ctx SpecContext) {
		res := release(ctx, sc, "v2")
		Expect(res.Got).To(Equal(sandbox.Promoted), "reason %q", res.Reason)
		Expect(res.Colours).To(Equal([]string{"blue", "green"}))
		expectServedOnlyBy(res, "v2")
	}, NodeTimeout(sandboxTimeout))
})
