package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
)

var _ = Describe("An operator restart", func() {
	It("resumes a release at the step it was on, with no weight regression", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](10)},
				{SetWeight: ptr.To[int32](40)},
				{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: 8 * time.Second}}},
				{SetWeight: ptr.To[int32](70)},
			}
		})
		waitStable(ns)
		rev := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			g.Expect(routedWeight(ns, target)).To(Equal(int32(40)))
			g.Expect(getCanary(ns).Status.CurrentStep).To(Equal(int32(2)))
		}).Should(Succeed())

		By("stopping the operator in the middle of the timed pause")
		controllertest.StopOperator(suite)
		before := getCanary(ns)
		weights := recordWeights(ns, target)

		By("starting a new operator, which knows nothing but what status says")
		controllertest.StartOperator(suite)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StableRevision).To(Equal(rev))
		}).Should(Succeed())

		seen := weights.Stop()
		Expect(seen).To(Equal([]int32{40, 70, 100, 0}), "it carries on from 40%%: never back to 10%% or 0 before promotion")
		after := getCanary(ns)
		Expect(after.Status.History[0].Time.Time).To(BeTemporally("<=", before.Status.StepStartedAt.Time),
			"the history written before the restart is kept")
	})

	It("writes no status and no route when nothing changed", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns)
		c := waitStable(ns)
		Consistently(func(g Gomega) {
			g.Expect(getCanary(ns).ResourceVersion).To(Equal(c.ResourceVersion))
		}, 3*time.Second, 250*time.Millisecond).Should(Succeed())
	})
})
