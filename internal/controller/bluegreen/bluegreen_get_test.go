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
		atRest := table().Row(ctx, ns)
		Expect(atRest).To(HaveKeyWithValue("Phase", "Stable"))
		Expect(atRest).To(HaveKeyWithValue("Active", "blue"))
		Expect(atRest).To(HaveKeyWithValue("Stable", stable))
		Expect(atRest["Message"]).To(ContainSubstring("serves all traffic"))
		table().Print(ctx, ns, "at rest")

		rev := setImage(ns, "orders:v2")
		inFlight := table().WaitForRow(ctx, ns, map[string]string{"Phase": "WaitingPromotion"})
		Expect(inFlight).To(HaveKeyWithValue("Active", "blue"))
		Expect(inFlight).To(HaveKeyWithValue("Revision", rev))
		Expect(inFlight).To(HaveKeyWithValue("Stable", stable))
		Expect(inFlight["Message"]).NotTo(BeEmpty())
		table().Print(ctx, ns, "in progress")

		command(ns, v1alpha1.CommandAbort)
		rolledBack := table().WaitForRow(ctx, ns, map[string]string{"Phase": "RolledBack"})
		Expect(rolledBack).To(HaveKeyWithValue("Active", "blue"))
		Expect(rolledBack).To(HaveKeyWithValue("Revision", rev))
		Expect(rolledBack["Message"]).To(ContainSubstring("rolled back"))
		table().Print(ctx, ns, "rolled back")
	})
})

// table is `kubectl get bluegreens`.
func table() controllertest.Table {
	return controllertest.Table{Config: suite.Config, Resource: "bluegreens"}
}
