package bluegreen_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

func bgGone(ns string) bool {
	return apierrors.IsNotFound(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, &v1alpha1.BlueGreen{}))
}

var _ = Describe("A BlueGreen through an Istio VirtualService", func() {
	It("flips the route 0/100 in one write and reads it back, re-asserts a drift at rest, holds the route on a failed pre-promotion check, and hands the route back on deletion", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, throughIstio(""))
		history, err := suite.WatchHistory(ctx, ns, &networkingv1.VirtualServiceList{})
		Expect(err).NotTo(HaveOccurred())

		By("initialising: the generated VirtualService sends all traffic to blue, read back in status")
		waitStable(ns)
		Eventually(func() v1alpha1.Color { return liveRoute(ns) }).Should(Equal(blue))
		Expect(vsColor(ns, target)).To(Equal(string(blue)))
		Expect(selected(ns, workload.ColorName(target, blue))).To(Equal(blue), "a Service per color backs the route")
		Expect(selected(ns, workload.ColorName(target, green))).To(Equal(green))
		Expect(getBlueGreen(ns).Status.Route.Kind).To(Equal("VirtualService"))

		By("promoting v2: one write of the weights, then the active Service follows")
		v2 := setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.ActiveRevision).To(Equal(v2))
			g.Expect(bg.Status.Route.LiveColor).To(Equal(green))
			g.Expect(conditionOf(bg, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(selected(ns, target)).To(Equal(green))
			g.Expect(selected(ns, workload.PreviewName(target))).To(Equal(blue))
		}, 90*time.Second).Should(Succeed())
		Expect(vsHistory(history.Versions(), target)).To(Equal([]string{"blue", "green"}),
			"created on blue, flipped to green in one write, never split")

		By("editing the weights by hand at rest: put back")
		vs := &networkingv1.VirtualService{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, vs)).To(Succeed())
		for _, d := range vs.Spec.Http[0].Route {
			d.Weight = 50
		}
		Expect(k8s.Update(ctx, vs)).To(Succeed())
		Eventually(func() string { return vsColor(ns, target) }, 10*time.Second).Should(Equal(string(green)))

		By("releasing v3 whose pre-promotion check fails: the route never moves")
		bg := getBlueGreen(ns)
		bg.Spec.PrePromotionAnalysis = phaseAnalysis("vector(1)", 1)
		Expect(k8s.Update(ctx, bg)).To(Succeed())
		setImage(ns, "orders:v3")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.AbortedAt).NotTo(BeNil())
			g.Expect(bg.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
		}, 60*time.Second).Should(Succeed())
		Expect(getBlueGreen(ns).Status.ActiveRevision).To(Equal(v2))
		Expect(vsHistory(history.Versions(), target)).To(Equal([]string{"blue", "green", "", "green"}),
			"only the drift and its correction since the flip")

		By("deleting: the route goes to the active Service before anything is deleted, then the generated one goes")
		Expect(k8s.Delete(ctx, getBlueGreen(ns))).To(Succeed())
		Eventually(func() bool { return bgGone(ns) }).Should(BeTrue())
		Expect(vsHistory(history.Stop(), target)).To(Equal([]string{"blue", "green", "", "green", "apex", "-"}))
		Expect(getService(ns, target).OwnerReferences).To(BeEmpty(), "the active Service is kept")
	})

	It("flips back when the post-promotion check fails, to the old color at full size", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, throughIstio(""), func(bg *v1alpha1.BlueGreen) {
			bg.Spec.PostPromotionAnalysis = phaseAnalysis("vector(1)", 1)
		})
		waitStable(ns)
		history, err := suite.WatchHistory(ctx, ns, &networkingv1.VirtualServiceList{})
		Expect(err).NotTo(HaveOccurred())
		setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(bg.Status.Route.LiveColor).To(Equal(blue))
			g.Expect(selected(ns, target)).To(Equal(blue))
		}, 60*time.Second).Should(Succeed())
		Expect(replicasOf(ns, blue)).To(Equal(int32(2)), "the old color kept its size for the flip back")
		Expect(vsHistory(history.Stop(), target)).To(Equal([]string{"blue", "green", "blue"}))
	})

	It("changes only the weights of a user's VirtualService, and on deletion keeps it, pointed at the active Service", func() {
		ns := newNamespace()
		theirs := &networkingv1.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns,
			Labels: map[string]string{"team": "shop"}}}
		theirs.Spec.Hosts = []string{"orders.example.com"}
		theirs.Spec.Gateways = []string{"istio-system/public"}
		theirs.Spec.Http = []*istioapi.HTTPRoute{
			{Name: "health", Match: []*istioapi.HTTPMatchRequest{{Uri: &istioapi.StringMatch{
				MatchType: &istioapi.StringMatch_Exact{Exact: "/healthz"}}}},
				Route: []*istioapi.HTTPRouteDestination{{Destination: &istioapi.Destination{Host: "health-checker"}}}},
			{Name: "main", Retries: &istioapi.HTTPRetry{Attempts: 3}, Route: []*istioapi.HTTPRouteDestination{
				{Destination: &istioapi.Destination{Host: workload.ColorName(target, blue)}, Weight: 100},
				{Destination: &istioapi.Destination{Host: workload.ColorName(target, green)}, Weight: 0}}},
		}
		Expect(k8s.Create(ctx, theirs)).To(Succeed())
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, throughIstio("shop"))
		waitStable(ns)
		v2 := setImage(ns, "orders:v2")
		Eventually(func(g Gomega) {
			g.Expect(getBlueGreen(ns).Status.ActiveRevision).To(Equal(v2))
			g.Expect(vsColor(ns, "shop")).To(Equal(string(green)))
		}, 60*time.Second).Should(Succeed())
		got := &networkingv1.VirtualService{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), got)).To(Succeed())
		Expect(got.Labels).To(Equal(theirs.Labels))
		Expect(got.OwnerReferences).To(BeEmpty())
		Expect(got.Spec.Hosts).To(Equal(theirs.Spec.Hosts))
		Expect(got.Spec.Http[0].Route[0].Destination.Host).To(Equal("health-checker"), "other routes untouched")
		Expect(got.Spec.Http[1].Retries.Attempts).To(Equal(int32(3)))

		Expect(k8s.Delete(ctx, getBlueGreen(ns))).To(Succeed())
		Eventually(func() bool { return bgGone(ns) }).Should(BeTrue())
		Expect(vsColor(ns, "shop")).To(Equal("apex"), "a user's route is kept, its traffic on the active Service")
	})
})
