package canary_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

var _ = Describe("A typed error from deep in the shell", func() {
	It("reaches a Stalled condition with its reason, and the object Sluice does not own is left alone", func() {
		ns := newNamespace()
		By("someone else's Deployment already holding the primary's name")
		labels := map[string]string{"app": "someone-else"}
		foreign := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: target + "-primary", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "other", Image: "other:v1"}}},
				},
			},
		}
		Expect(k8s.Create(ctx, foreign)).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns)

		Eventually(func(g Gomega) {
			c := getCanary(ns)
			stalled := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonObjectNotOwned))
			g.Expect(stalled.Message).To(ContainSubstring(target + "-primary"))
			g.Expect(stalled.Message).To(ContainSubstring("is not managed by"))
			g.Expect(c.Status.Message).NotTo(BeEmpty(), "kubectl get shows why")
			ready := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		}).Should(Succeed())

		got := &appsv1.Deployment{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target + "-primary"}, got)).To(Succeed())
		Expect(got.Spec.Template.Spec.Containers[0].Image).To(Equal("other:v1"), "Sluice must not adopt or change it")
		Expect(got.OwnerReferences).To(BeEmpty())
	})
})
