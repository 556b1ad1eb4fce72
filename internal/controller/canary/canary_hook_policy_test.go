package canary_test

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
	It("stalls a Canary whose hook Job names another ServiceAccount, and creates nothing", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Hooks = []v1alpha1.CanaryHook{{Name: "migrate", Type: v1alpha1.HookPreRollout,
				HookAction: v1alpha1.HookAction{Job: &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					ServiceAccountName: "db-admin",
					RestartPolicy:      corev1.RestartPolicyNever,
					Containers:         []corev1.Container{{Name: "migrate", Image: "migrate:v1"}},
				}}}}}}
		})
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			stalled := conditionOf(c, v1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(stalled.Message).To(ContainSubstring(`hook "migrate": the Job would run as ServiceAccount "db-admin"`))
			g.Expect(stalled.Message).To(ContainSubstring(`remove serviceAccountName from the Job's pod template`))
			g.Expect(conditionOf(c, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		}).Should(Succeed())

		Consistently(func(g Gomega) {
			jobs := &batchv1.JobList{}
			g.Expect(k8s.List(ctx, jobs, client.InNamespace(ns))).To(Succeed())
			g.Expect(jobs.Items).To(BeEmpty(), "no Job runs as the borrowed ServiceAccount")
			err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: workload.PrimaryName(target)}, &appsv1.Deployment{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "nothing else happens either")
		}, "2s").Should(Succeed())
		Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(2)), "the user's Deployment keeps serving")
	})
})
