package bluegreen_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

const (
	blue  = v1alpha1.ColorBlue
	green = v1alpha1.ColorGreen
)

var _ = Describe("A BlueGreen release", func() {
	It("tests the new color through the preview, flips the Service in one write, then scales the old color down", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.PrePromotionAnalysis = phaseAnalysis("vector(0)", 1)
			bg.Spec.PostPromotionAnalysis = phaseAnalysis("vector(0)", 1)
		})

		By("initialising: v1 on blue with the target's size, the active Service on blue, the target at zero")
		bg := waitStable(ns)
		Expect(bg.Status.ActiveColor).To(Equal(blue))
		Expect(replicasOf(ns, blue)).To(Equal(int32(2)))
		Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
		Expect(selected(ns, workload.PreviewName(target))).To(Equal(green))

		By("releasing v2")
		colors := recordColors(ns)
		v2 := setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			g.Expect(replicasOf(ns, green)).To(Equal(int32(2)))
			g.Expect(imageOf(ns, green)).To(Equal("orders:v2"))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.ActiveColor).To(Equal(green))
			g.Expect(bg.Status.ActiveRevision).To(Equal(v2))
			g.Expect(conditionOf(bg, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(replicasOf(ns, blue)).To(BeZero(), "the old color scales down after scaleDownDelay")
		}, deadline.Scale(90*time.Second)).Should(Succeed())
		Expect(colors.Stop()).To(Equal([]v1alpha1.Color{blue, green}), "exactly one flip")
		Expect(selected(ns, workload.PreviewName(target))).To(Equal(blue))
		bg = getBlueGreen(ns)
		Expect(conditionOf(bg, v1alpha1.ConditionPromoted).Status).To(Equal(metav1.ConditionTrue))
		Expect(bg.Status.History).NotTo(BeEmpty())
	})

	It("waits for a manual promote when autoPromotion is off", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) { bg.Spec.AutoPromotion = ptr.To(false) })
		waitStable(ns)

		v2 := setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.Phase).To(Equal(v1alpha1.PhaseWaitingPromotion))
		}).Should(Succeed())
		Consistently(func() v1alpha1.Color { return selected(ns, target) }, 2*time.Second).Should(Equal(blue))

		command(ns, v1alpha1.CommandPromote)
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.ActiveRevision).To(Equal(v2))
			g.Expect(selected(ns, target)).To(Equal(green))
		}).Should(Succeed())
	})

	It("resumes after an operator restart between the flip and the post-promotion checks", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.PostPromotionAnalysis = phaseAnalysis("vector(0)", 2)
		})
		waitStable(ns)
		v2 := setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.SwitchedAt).NotTo(BeNil())
			g.Expect(selected(ns, target)).To(Equal(green))
		}).Should(Succeed())

		controllertest.StopOperator(suite)
		Expect(getBlueGreen(ns).Status.ActiveRevision).NotTo(Equal(v2), "stopped before the post-promotion checks passed")
		colors := recordColors(ns)
		controllertest.StartOperator(suite)

		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.ActiveRevision).To(Equal(v2))
			g.Expect(conditionOf(bg, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(bg.Status.Analysis.Checks).To(BeNumerically(">=", 2))
		}, deadline.Scale(90*time.Second)).Should(Succeed())
		Expect(colors.Stop()).To(Equal([]v1alpha1.Color{green}), "the new operator never flipped back")
	})
})
