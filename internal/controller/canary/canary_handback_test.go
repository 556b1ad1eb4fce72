package canary_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
)

func getService(ns, name string) *corev1.Service {
	return controllertest.GetService(ctx, k8s, ns, name)
}

func deleteCanary(ns string) {
	ExpectWithOffset(1, k8s.Delete(ctx, &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: ns}})).To(Succeed())
}

func canaryGone(ns string) bool {
	err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, &v1alpha1.Canary{})
	return apierrors.IsNotFound(err)
}

var _ = Describe("Deleting a Canary", func() {
	It("waits for the target to be ready at the primary's size, then hands the apex Service back to it", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 3)
		newCanary(ns)
		waitStable(ns)
		Expect(getService(ns, target).Spec.Selector).To(HaveKeyWithValue(workload.LabelWorkload, workload.PrimaryName(target)))

		By("deleting it while the target's pods cannot become ready")
		setNeverReady(ns, target, true)
		deleteCanary(ns)
		Eventually(func(g Gomega) {
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(3)), "scaled to the primary's size")
			hb := conditionOf(getCanary(ns), v1alpha1.ConditionHandedBack)
			g.Expect(hb.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(hb.Reason).To(Equal(v1alpha1.ReasonHandingBack))
			g.Expect(hb.Message).To(ContainSubstring("waiting for the target Deployment to have 3 ready pods"))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(canaryGone(ns)).To(BeFalse(), "the finalizer holds while the target cannot serve")
			apex := getService(ns, target)
			g.Expect(apex.Spec.Selector).To(HaveKeyWithValue(workload.LabelWorkload, workload.PrimaryName(target)),
				"the primary keeps the traffic")
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)), "the generated route still sends all to the primary")
		}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

		By("letting the target's pods become ready")
		setNeverReady(ns, target, false)
		Eventually(func() bool { return canaryGone(ns) }).Should(BeTrue())
		apex := getService(ns, target)
		Expect(apex.OwnerReferences).To(BeEmpty(), "the apex Service is kept, not garbage-collected")
		Expect(apex.Spec.Selector).To(Equal(map[string]string{"app": target}), "it selects the target's pods")
		err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, &istionetworking.VirtualService{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the generated VirtualService, which the Canary controlled, is deleted")
	})

	It("never deletes a user's VirtualService of the generated name that Sluice refused to manage", func() {
		ns := newNamespace()
		theirs := &istionetworking.VirtualService{
			ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: ns},
			Spec: istioapi.VirtualService{Hosts: []string{"podinfo.example.com"}, Http: []*istioapi.HTTPRoute{{
				Name: "gateway", Route: []*istioapi.HTTPRouteDestination{{Destination: &istioapi.Destination{Host: "podinfo"}}},
			}}},
		}
		Expect(k8s.Create(ctx, theirs)).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns)
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Finalizers).NotTo(BeEmpty())
		}).Should(Succeed())
		deleteCanary(ns)
		Eventually(func() bool { return canaryGone(ns) }).Should(BeTrue())
		got := &istionetworking.VirtualService{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), got)).To(Succeed(), "the user's VirtualService is still there")
		Expect(got.UID).To(Equal(theirs.UID))
		Expect(got.Spec.Http[0].Route[0].Destination.Host).To(Equal("podinfo"), "and unchanged")
	})

	It("routes a named VirtualService to the apex Service before it goes, mid-release", func() {
		ns := newNamespace()
		Expect(k8s.Create(ctx, userVirtualService(ns))).To(Succeed())
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting.Istio.VirtualService.Name = "shop-routes"
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: &v1alpha1.Pause{}}}
		})
		Eventually(func(g Gomega) { g.Expect(getCanary(ns).Status.StableRevision).NotTo(BeEmpty()) }).Should(Succeed())
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, "shop-routes") }).Should(Equal(int32(25)))

		deleteCanary(ns)
		Eventually(func() bool { return canaryGone(ns) }).Should(BeTrue())
		got := &istionetworking.VirtualService{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "shop-routes"}, got)).To(Succeed(), "a named VirtualService is never deleted")
		Expect(got.Spec.Http[0].Route[0].Destination.Host).To(Equal("podinfo-debug"), "routes Sluice does not manage are untouched")
		main := got.Spec.Http[1].Route
		Expect(main).To(HaveLen(1), "the managed route sends everything to one place")
		Expect(main[0].Destination.Host).To(Equal(target), "the apex Service")
		Expect(main[0].Weight).To(Equal(int32(100)))
		Expect(getService(ns, target).Spec.Selector).To(Equal(map[string]string{"app": target}))
		Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(2)))
	})
})

var _ = Describe("Onboarding with an existing Service", func() {
	It("adopts the user's Service instead of refusing it, and restores it on deletion", func() {
		ns := newNamespace()
		theirs := controllertest.UserService(ctx, k8s, ns, target, 9898, func(svc *corev1.Service) {
			svc.Labels = map[string]string{"team": "shop"}
			svc.Spec.Type = corev1.ServiceTypeNodePort
		})
		Expect(theirs.Spec.ClusterIP).NotTo(BeEmpty())
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns)
		waitStable(ns)

		apex := getService(ns, target)
		Expect(apex.UID).To(Equal(theirs.UID), "the same Service, never deleted and re-created")
		Expect(apex.Spec.ClusterIP).To(Equal(theirs.Spec.ClusterIP), "clients keep its address")
		Expect(apex.Spec.Selector).To(HaveKeyWithValue(workload.LabelWorkload, workload.PrimaryName(target)),
			"it selects the primary once the primary is ready")
		Expect(apex.Labels).To(HaveKeyWithValue("team", "shop"), "the user's labels stay")
		Expect(apex.Spec.Type).To(Equal(corev1.ServiceTypeNodePort), "and its type")
		Expect(apex.Spec.Ports[0].NodePort).To(Equal(theirs.Spec.Ports[0].NodePort), "and its node port")
		var recorded map[string]string
		Expect(json.Unmarshal([]byte(apex.Annotations[workload.AnnotationAdoptedSelector]), &recorded)).To(Succeed())
		Expect(recorded).To(Equal(map[string]string{"app": target}))
		Expect(conditionOf(getCanary(ns), v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))

		deleteCanary(ns)
		Eventually(func() bool { return canaryGone(ns) }).Should(BeTrue())
		apex = getService(ns, target)
		Expect(apex.UID).To(Equal(theirs.UID))
		Expect(apex.Spec.Selector).To(Equal(map[string]string{"app": target}), "its own selector is back")
		Expect(apex.Annotations).NotTo(HaveKey(workload.AnnotationAdoptedSelector))
		Expect(apex.OwnerReferences).To(BeEmpty())
	})

	It("still refuses a Service of that name that another controller owns", func() {
		ns := newNamespace()
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner", Namespace: ns}}
		Expect(k8s.Create(ctx, owner)).To(Succeed())
		controllertest.UserService(ctx, k8s, ns, target, 9898, func(svc *corev1.Service) {
			svc.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID, Controller: ptr.To(true),
			}}
		})
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns)
		Consistently(func(g Gomega) {
			g.Expect(getService(ns, target).Spec.Selector).To(Equal(map[string]string{"app": target}))
			g.Expect(getService(ns, target).Annotations).NotTo(HaveKey(workload.AnnotationAdoptedSelector))
		}, 2*time.Second, 200*time.Millisecond).Should(Succeed())
	})
})

var _ = Describe("A target deleted mid-release", func() {
	It("sends the weight back to 0 at once, says why, and still applies an abort", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: &v1alpha1.Pause{}}}
		})
		waitStable(ns)
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, target) }).Should(Equal(int32(25)))

		Expect(k8s.Delete(ctx, getDeployment(ns, target))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)), "the primary takes all the traffic")
			stalled := conditionOf(getCanary(ns), v1alpha1.ConditionStalled)
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonTargetNotFound))
			g.Expect(stalled.Message).To(ContainSubstring("all traffic goes to the primary"))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		command(ns, v1alpha1.CommandAbort)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil(), "the abort is applied while the target is gone")
			g.Expect(c.Status.LastCommand).NotTo(BeNil())
			g.Expect(c.Status.LastCommand.Message).To(Equal("rolled back"))
		}).Should(Succeed())
	})
})
