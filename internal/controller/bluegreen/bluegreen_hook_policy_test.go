package bluegreen_test

import (
	. "github.com/onsi/ginkgo/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Without the ValidatingAdmissionPolicy installed (this suite has none), the
// operator itself refuses a hook Job that would run as a borrowed identity.
var _ = Describe("Job hook policy", func() {
	It("stalls a BlueGreen whose hook Job names another ServiceAccount, and creates nothing", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.Hooks = []v1alpha1.BlueGreenHook{{Name: "integration-tests", Type: v1alpha1.HookPrePromotion,
				HookAction: controllertest.JobAs("deployer", "tests", "tests:v1")}}
		})
		controllertest.ExpectStalledOnHook(ctx, k8s, ns, func() []metav1.Condition { return getBlueGreen(ns).Status.Conditions },
			[]string{`hook "integration-tests": the Job would run as ServiceAccount "deployer"`},
			workload.ColorName(target, v1alpha1.ColorBlue), workload.ColorName(target, v1alpha1.ColorGreen))
	})
})
