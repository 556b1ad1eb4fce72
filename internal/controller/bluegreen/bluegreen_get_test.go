package bluegreen_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
)

var _ = Describe("kubectl get bluegreens", func() {
	It("shows the active color, the revision under test, the stable one and what the release does", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.AutoPromotion = ptr.To(false)
			bg.Spec.PrePromotionAnalysis = phaseAnalysis("vector(0)", 1)
		})
		stable := waitStable(ns).Status.ActiveRevision
		atRest := bgTableRow(ns)
		Expect(atRest).To(HaveKeyWithValue("Phase", "Stable"))
		Expect(atRest).To(HaveKeyWithValue("Active", "blue"))
		Expect(atRest).To(HaveKeyWithValue("Stable", stable))
		Expect(atRest["Message"]).To(ContainSubstring("serves all traffic"))
		printBlueGreenTables(ns, "at rest")

		rev := setImage(ns, "orders:v2")
		var inFlight map[string]string
		Eventually(func(g Gomega) {
			inFlight = bgTableRow(ns)
			g.Expect(inFlight).To(HaveKeyWithValue("Phase", "WaitingPromotion"))
		}).Should(Succeed())
		Expect(inFlight).To(HaveKeyWithValue("Active", "blue"))
		Expect(inFlight).To(HaveKeyWithValue("Revision", rev))
		Expect(inFlight).To(HaveKeyWithValue("Stable", stable))
		Expect(inFlight["Message"]).NotTo(BeEmpty())
		printBlueGreenTables(ns, "in progress")

		command(ns, v1alpha1.CommandAbort)
		var rolledBack map[string]string
		Eventually(func(g Gomega) {
			rolledBack = bgTableRow(ns)
			g.Expect(rolledBack).To(HaveKeyWithValue("Phase", "RolledBack"))
		}).Should(Succeed())
		Expect(rolledBack).To(HaveKeyWithValue("Active", "blue"))
		Expect(rolledBack).To(HaveKeyWithValue("Revision", rev))
		Expect(rolledBack["Message"]).To(ContainSubstring("rolled back"))
		printBlueGreenTables(ns, "rolled back")
	})
})

// bgTableRow is the only row of `kubectl get bluegreens -o wide` in ns, by
// column name.
func bgTableRow(ns string) map[string]string {
	return controllertest.TableRow(ctx, suite.Config, "bluegreens", ns)
}

// printBlueGreenTables prints `kubectl get bluegreens` and `-o wide` of ns.
func printBlueGreenTables(ns, when string) {
	controllertest.PrintTables(ctx, suite.Config, "bluegreens", ns, when)
}
