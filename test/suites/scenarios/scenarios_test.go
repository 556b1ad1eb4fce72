package scenarios

import (
	"context"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
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

// expectSound checks what every release must show, whatever its outcome
// (sandbox.Result.Check): the canary weight never above the step in force
// and back to 0 at the end, the blue-green Service flipping only on a
// promotion, and the live traffic afterwards all served by the version that
// should serve it, measured from the emulator's counters.
func expectSound(res sandbox.Result) {
	Expect(res.Check()).To(Succeed(), "%s", sandbox.Explain(res))
	var total int64
	for _, n := range res.Served {
		total += n
	}
	Expect(total).To(BeNumerically(">", 100), "enough live traffic measured after the outcome: %v", res.Served)
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
		Expect(res.Weights).To(Equal([]int32{0, 5, 25, 50, 100, 0}), "every step's weight in turn, all of it on the canary while the primary takes the new version, then the primary takes over")
		Expect(res.Judge).NotTo(Equal(v1alpha1.JudgeRollback))
		Expect(res.Served).To(HaveKey("v2"))
		expectSound(res)
	}, NodeTimeout(sandboxTimeout))

	It("rolls back v3-bad on its thresholds, naming the failing metric, and v2 keeps serving", func(ctx SpecContext) {
		res := release(ctx, sc, "v3-bad")
		Expect(res.Got).To(Equal(sandbox.RolledBack))
		Expect(res.Reason).To(Equal(v1alpha1.ReasonAnalysisFailed))
		Expect(res.FailedMetrics).To(ContainElement("request-duration-p99"), "v3-bad answers in 300-700 ms; the istio preset's ceiling is 500")
		Expect(res.Weights).To(Equal([]int32{0, 5, 0}), "rolled back at the first step")
		Expect(res.Stable).To(Equal("v2"))
		expectSound(res)
	}, NodeTimeout(sandboxTimeout))

	It("rolls back v4-slow on the judge's evidence, inside the thresholds, and v2 keeps serving", func(ctx SpecContext) {
		res := release(ctx, sc, "v4-slow")
		Expect(res.Got).To(Equal(sandbox.RolledBack))
		Expect(res.Judge).To(Equal(v1alpha1.JudgeRollback), "the judge decided: %s", res.JudgeSummary)
		Expect(res.FailedMetrics).To(ConsistOf("judge"), "every request under 150 ms stays under the 500 ms p99 ceiling: only the judge failed")
		Expect(res.Stable).To(Equal("v2"))
		expectSound(res)
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
		Expect(res.Colors).To(Equal([]string{"blue"}), "the live Service never left blue")
		Expect(res.Stable).To(Equal("v1"))
		expectSound(res)
	}, NodeTimeout(sandboxTimeout))

	It("flips to v2 in one write once its tests pass, and v2 then serves all live traffic", func(ctx SpecContext) {
		res := release(ctx, sc, "v2")
		Expect(res.Got).To(Equal(sandbox.Promoted), "reason %q", res.Reason)
		Expect(res.Colors).To(Equal([]string{"blue", "green"}))
		expectSound(res)
	}, NodeTimeout(sandboxTimeout))
})
