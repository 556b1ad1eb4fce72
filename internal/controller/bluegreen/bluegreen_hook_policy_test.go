package bluegreen_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
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
				HookAction: v1alpha1.HookAction{Job: &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					ServiceAccountName: "deployer",
					RestartPolicy:      corev1.RestartPolicyNever,
					Containers:         []corev1.Container{{Name: "tests", Image: "tests:v1"}},
				}}}}}}
		})
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			stalled := conditionOf(bg, v1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(stalled.Message).To(ContainSubstring(`hook "integration-tests": the Job would run as ServiceAccount "deployer"`))
		}).Should(Succeed())

		Consistently(func(g Gomega) {
			jobs := &batchv1.JobList{}
			g.Expect(k8s.List(ctx, jobs, client.InNamespace(ns))).To(Succeed())
			g.Expect(jobs.Items).To(BeEmpty())
			for _, c := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
				err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: workload.ColorName(target, c)}, &appsv1.Deployment{})
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no color is created")
			}
		}, "2s").Should(Succeed())
	})
})
