package canary_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// newAutoscaler creates the user's HorizontalPodAutoscaler on the target.
func newAutoscaler(ns string) *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
			MinReplicas:    ptr.To[int32](2),
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)}}}},
		},
	}
	Expect(k8s.Create(ctx, h)).To(Succeed())
	return h
}

func getAutoscaler(ns, name string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	return h, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, h)
}

// scaleAsAutoscaler sets a Deployment's replicas the way an autoscaler does:
// an update of that one field under a field manager of its own.
func scaleAsAutoscaler(ns, name string, replicas int32) {
	d := getDeployment(ns, name)
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = ptr.To(replicas)
	Expect(k8s.Patch(ctx, d, patch, client.FieldOwner("horizontal-pod-autoscaler"))).To(Succeed())
}

var _ = Describe("A Canary on an autoscaled Deployment", func() {
	It("gives the primary a copy of the autoscaler and never writes the primary's replicas", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		user := newAutoscaler(ns)
		newCanary(ns)
		waitStable(ns)

		By("copying the user's autoscaler onto the primary")
		primaryName := workload.PrimaryName(target)
		var copied *autoscalingv2.HorizontalPodAutoscaler
		Eventually(func(g Gomega) {
			var err error
			copied, err = getAutoscaler(ns, primaryName)
			g.Expect(err).NotTo(HaveOccurred())
		}).Should(Succeed())
		Expect(copied.Spec.ScaleTargetRef.Name).To(Equal(primaryName))
		Expect(copied.Spec.MinReplicas).To(Equal(user.Spec.MinReplicas))
		Expect(copied.Spec.MaxReplicas).To(Equal(user.Spec.MaxReplicas))
		Expect(copied.Spec.Metrics).To(Equal(user.Spec.Metrics))
		Expect(metav1.GetControllerOf(copied).Kind).To(Equal("Canary"))

		By("the primary's autoscaler scaling it to 5, then a release of v2")
		scaleAsAutoscaler(ns, primaryName, 5)
		h := recordHandover(ns)
		rev := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.StableRevision).To(Equal(rev))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
			g.Expect(h.latest().replicas).To(BeZero(), "the recorder saw the canary at zero")
		}).Should(Succeed())
		frames := h.Stop()
		expectImageChangedUnder100(frames)
		maxCanary := int32(0)
		for _, f := range frames {
			maxCanary = max(maxCanary, f.replicas)
		}
		Expect(maxCanary).To(Equal(int32(5)), "the canary is sized from the primary's current replicas: %+v", frames)
		primary := getDeployment(ns, primaryName)
		Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v2"))
		Expect(*primary.Spec.Replicas).To(Equal(int32(5)), "the autoscaler's count survives the promotion")

		By("deleting the user's autoscaler: the copy goes too")
		Expect(k8s.Delete(ctx, user)).To(Succeed())
		Eventually(func() error { _, err := getAutoscaler(ns, primaryName); return err }).Should(Satisfy(func(err error) bool {
			return err != nil && client.IgnoreNotFound(err) == nil
		}))
	})
})

var _ = Describe("An autoscaler on the target created and deleted mid-release", func() {
	It("is copied onto the primary, whose replicas Sluice then leaves alone, and the copy goes with it", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](10)}, {Pause: &v1alpha1.Pause{}}}
		})
		waitStable(ns)
		primaryName := workload.PrimaryName(target)
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, target) }).Should(Equal(int32(10)))

		By("creating the user's autoscaler while the canary carries 10%")
		user := newAutoscaler(ns)
		Eventually(func() error { _, err := getAutoscaler(ns, primaryName); return err }).Should(Succeed())
		scaleAsAutoscaler(ns, primaryName, 4)
		Consistently(func() int32 { return workload.DesiredReplicas(getDeployment(ns, primaryName)) }, "2s", "200ms").
			Should(Equal(int32(4)), "Sluice leaves the count the autoscaler set")

		By("deleting it, still mid-release: the copy goes and the release goes on")
		Expect(k8s.Delete(ctx, user)).To(Succeed())
		Eventually(func() error { _, err := getAutoscaler(ns, primaryName); return err }).Should(Satisfy(func(err error) bool {
			return err != nil && client.IgnoreNotFound(err) == nil
		}))
		Expect(routedWeight(ns, target)).To(Equal(int32(10)))
		command(ns, v1alpha1.CommandPromote)
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.CanaryRevision).To(BeEmpty())
			g.Expect(getDeployment(ns, primaryName).Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v2"))
		}).Should(Succeed())
	})
})

// appliesReplicas reports whether Sluice's own apply owns spec.replicas of
// the Deployment: the field a next apply would write.
func appliesReplicas(d *appsv1.Deployment) bool {
	for _, mf := range d.ManagedFields {
		if mf.Manager == workload.FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply &&
			mf.FieldsV1 != nil && strings.Contains(mf.FieldsV1.GetRawString(), `"f:replicas"`) {
			return true
		}
	}
	return false
}

var _ = Describe("A Canary whose primary has an autoscaler of the user's", func() {
	It("leaves the autoscaler alone and never owns the primary's replicas", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns)
		waitStable(ns)

		By("the user's autoscaler on the primary itself, scaling it to 5")
		primaryName := workload.PrimaryName(target)
		h := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: primaryName, Namespace: ns},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: primaryName},
				MaxReplicas:    10,
			},
		}
		Expect(k8s.Create(ctx, h)).To(Succeed())
		scaleAsAutoscaler(ns, primaryName, 5)

		By("a release of v2: the canary sized 5, the primary promoted with its 5 replicas, never owned by Sluice")
		rec := recordHandover(ns)
		rev := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.StableRevision).To(Equal(rev))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
			g.Expect(rec.latest().replicas).To(BeZero(), "the recorder saw the canary at zero")
		}).Should(Succeed())
		frames := rec.Stop()
		expectImageChangedUnder100(frames)
		maxCanary := int32(0)
		for _, f := range frames {
			maxCanary = max(maxCanary, f.replicas)
		}
		Expect(maxCanary).To(Equal(int32(5)), "the canary is sized from the primary's current replicas: %+v", frames)
		primary := getDeployment(ns, primaryName)
		Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v2"))
		Expect(*primary.Spec.Replicas).To(Equal(int32(5)))
		Expect(appliesReplicas(primary)).To(BeFalse(), "Sluice's apply owns spec.replicas: %+v", primary.ManagedFields)
		kept, err := getAutoscaler(ns, primaryName)
		Expect(err).NotTo(HaveOccurred(), "the user's autoscaler is not deleted")
		Expect(metav1.GetControllerOf(kept)).To(BeNil(), "nor taken over")
	})
})
