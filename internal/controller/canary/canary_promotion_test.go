package canary_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

var _ = Describe("A Canary release", func() {
	It("initialises the primary, then promotes a new revision step by step", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 3)
		newCanary(ns)

		By("initialising: the primary runs v1 with the target's size, all traffic on it, the target at zero")
		c := waitStable(ns)
		primary := getDeployment(ns, workload.PrimaryName(target))
		Expect(*primary.Spec.Replicas).To(Equal(int32(3)))
		Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v1"))
		Expect(c.Status.Phase).To(Equal(v1alpha1.PhaseStable))

		By("releasing v2")
		weights := recordWeights(ns, target)
		rev := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StableRevision).To(Equal(rev))
			g.Expect(conditionOf(c, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(conditionOf(c, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(0)))
		}).Should(Succeed())
		seen := weights.Stop()

		By("having sent the canary 10%, 50%, all traffic while the primary took v2, then all traffic back to the primary")
		Expect(seen).To(Equal([]int32{0, 10, 50, 100, 0}))
		primary = getDeployment(ns, workload.PrimaryName(target))
		Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v2"))
		Expect(*primary.Spec.Replicas).To(Equal(int32(3)))
		c = getCanary(ns)
		Expect(c.Status.History).NotTo(BeEmpty())
		Expect(c.Status.History[len(c.Status.History)-1].Reason).To(Equal("Promoted"))
	})
})
