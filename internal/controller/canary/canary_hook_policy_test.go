package canary_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Without the ValidatingAdmissionPolicy installed (this suite has none), the
// operator itself refuses a hook Job that would run as a borrowed identity.
var _ = Describe("Job hook policy", func() {
	It("stalls a Canary whose hook Job names another ServiceAccount, and creates nothing", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Hooks = []v1alpha1.CanaryHook{{Name: "migrate", Type: v1alpha1.HookPreRollout,
				HookAction: controllertest.JobAs("db-admin", "migrate", "migrate:v1")}}
		})
		controllertest.ExpectStalledOnHook(ctx, k8s, ns, func() []metav1.Condition { return getCanary(ns).Status.Conditions },
			[]string{`hook "migrate": the Job would run as ServiceAccount "db-admin"`,
				`remove serviceAccountName from the Job's pod template`},
			workload.PrimaryName(target))
		Expect(conditionOf(getCanary(ns), v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(2)), "the user's Deployment keeps serving")
	})
})
