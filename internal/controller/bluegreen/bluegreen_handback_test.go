package bluegreen_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

func getService(ns, name string) *corev1.Service {
	return controllertest.GetService(ctx, k8s, ns, name)
}

// pointPreview sets the preview Service's color behind the operator's back,
// as a flip cut short between its two writes would leave it.
func pointPreview(ns string, c v1alpha1.Color) {
	svc := getService(ns, workload.PreviewName(target))
	patch := client.MergeFrom(svc.DeepCopy())
	svc.Spec.Selector[workload.LabelColor] = string(c)
	ExpectWithOffset(1, k8s.Patch(ctx, svc, patch)).To(Succeed())
}

func setTargetNeverReady(ns string, never bool) {
	controllertest.SetNeverReady(ctx, k8s, ns, target, never)
}

var _ = Describe("The active and preview Services", func() {
	It("are re-asserted on every reconcile: a preview left on the live color is corrected before the next release is tested", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) { bg.Spec.AutoPromotion = ptr.To(false) })
		waitStable(ns)
		Expect(selected(ns, workload.PreviewName(target))).To(Equal(v1alpha1.ColorGreen))

		By("leaving the preview Service on the live color while the operator is down")
		controllertest.StopOperator(suite)
		pointPreview(ns, v1alpha1.ColorBlue)
		previews := apiserver.RecordChanges(20*time.Millisecond, func() (v1alpha1.Color, bool) {
			c := selected(ns, workload.PreviewName(target))
			return c, c != ""
		})
		controllertest.StartOperator(suite)
		setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.PreviewReadyAt).NotTo(BeNil(), "the new color is ready for its tests")
		}).Should(Succeed())
		Expect(selected(ns, target)).To(Equal(v1alpha1.ColorBlue), "not promoted: the release waits for a promote")
		Expect(previews.Stop()).To(Equal([]v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen}),
			"repaired to the idle color, and never back on the live one")
	})
})

var _ = Describe("Deleting a BlueGreen", func() {
	It("waits for the target at the active color's size, then keeps the active Service on the target's pods", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 3)
		newBlueGreen(ns)
		waitStable(ns)
		Eventually(func() int32 { return workload.DesiredReplicas(getDeployment(ns, target)) }).Should(BeZero())

		setTargetNeverReady(ns, true)
		Expect(k8s.Delete(ctx, getBlueGreen(ns))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(3)))
			hb := conditionOf(getBlueGreen(ns), v1alpha1.ConditionHandedBack)
			g.Expect(hb.Reason).To(Equal(v1alpha1.ReasonHandingBack))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(selected(ns, target)).To(Equal(v1alpha1.ColorBlue), "blue serves until the target can")
		}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

		setTargetNeverReady(ns, false)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, &v1alpha1.BlueGreen{}))
		}).Should(BeTrue())
		active := getService(ns, target)
		Expect(active.OwnerReferences).To(BeEmpty(), "the active Service is kept")
		Expect(active.Spec.Selector).To(Equal(map[string]string{"app": target}), "on the target's pods")
	})

	It("adopts a user's Service at onboarding, flips it without a gap, and restores it on deletion", func() {
		ns := newNamespace()
		theirs := controllertest.UserService(ctx, k8s, ns, target, 8080)
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns)
		waitStable(ns)
		Expect(getService(ns, target).UID).To(Equal(theirs.UID))

		Expect(k8s.Delete(ctx, getBlueGreen(ns))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, &v1alpha1.BlueGreen{}))
		}).Should(BeTrue())
		active := getService(ns, target)
		Expect(active.UID).To(Equal(theirs.UID))
		Expect(active.Spec.Selector).To(Equal(map[string]string{"app": target}))
		Expect(active.Annotations).NotTo(HaveKey(workload.AnnotationAdoptedSelector))
	})
})
