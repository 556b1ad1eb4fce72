package canary_test

import (
	"context"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// refuseRollbacks is a fault: the operator's status writes that record a
// rollback in namespace ns are refused with a conflict while refusing is
// true; refused counts them.
func refuseRollbacks(ns string, refusing *atomic.Bool, refused *atomic.Int32) interceptor.Funcs {
	return interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch,
			opts ...client.SubResourcePatchOption) error {
			if cn, ok := obj.(*v1alpha1.Canary); ok && cn.Namespace == ns && sub == "status" &&
				cn.Status.AbortedAt != nil && refusing.Load() {
				refused.Add(1)
				return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "canaries"},
					cn.Name, nil)
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}
}

// setRoutedWeight writes canary weight w (and 100-w to the primary) into
// every route of the VirtualService name, as a person or a Git sync would.
func setRoutedWeight(ns, name string, w int32) {
	vs := &istionetworking.VirtualService{}
	Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, vs)).To(Succeed())
	for _, r := range vs.Spec.Http {
		for _, d := range r.Route {
			switch d.Destination.GetHost() {
			case workload.CanaryName(target):
				d.Weight = w
			case workload.PrimaryName(target):
				d.Weight = 100 - w
			}
		}
	}
	Expect(k8s.Update(ctx, vs)).To(Succeed())
}

var _ = Describe("Durable decisions", func() {
	It("acts on a rollback only once it is written, and never forgets it", func() {
		ns := newNamespace()
		var refusing atomic.Bool
		var refused atomic.Int32
		refusing.Store(true)
		controllertest.StopOperator(suite)
		Expect(suite.StartOperator(apiserver.WithInterceptor(refuseRollbacks(ns, &refusing, &refused)))).To(Succeed())
		DeferCleanup(func() {
			controllertest.StopOperator(suite)
			controllertest.StartOperator(suite)
		})

		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, analysed("vector(0.5)", 1))
		waitStable(ns)
		weights := recordWeights(ns, target)
		setImage(ns, "podinfo:v3-bad")

		By("refusing every status write that records the rollback")
		Eventually(refused.Load).Should(BeNumerically(">=", 4))
		Consistently(func(g Gomega) {
			g.Expect(routedWeight(ns, target)).To(Equal(int32(10)), "no side effect without a written decision")
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(2)))
			g.Expect(getCanary(ns).Status.AbortedAt).To(BeNil())
		}, 3*time.Second, 200*time.Millisecond).Should(Succeed())

		By("letting the write through: the rollback is recorded, then carried out")
		refusing.Store(false)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(routedWeight(ns, target)).To(Equal(int32(0)))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(0)))
		}).Should(Succeed())
		time.Sleep(6 * time.Second) // more than an analysis interval: a forgotten rollback would show
		Expect(weights.Stop()).To(Equal([]int32{0, 10, 0}))
	})

	It("records a rollback whose first write met a conflict, with the failed result that caused it", func() {
		ns := newNamespace()
		var refusing atomic.Bool
		var refused atomic.Int32
		controllertest.StopOperator(suite)
		Expect(suite.StartOperator(apiserver.WithInterceptor(refuseRollbacks(ns, &refusing, &refused)))).To(Succeed())
		DeferCleanup(func() {
			controllertest.StopOperator(suite)
			controllertest.StartOperator(suite)
		})
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, analysed("vector(0.5)", 1))
		waitStable(ns)
		refusing.Store(true)
		setImage(ns, "podinfo:v3-bad")
		Eventually(refused.Load).Should(BeNumerically(">=", 1))
		refusing.Store(false)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(c.Status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
			g.Expect(c.Status.Analysis).NotTo(BeNil())
			g.Expect(c.Status.Analysis.Results).To(ContainElement(And(
				HaveField("Name", "error-rate"), HaveField("Outcome", v1alpha1.OutcomeFailed))))
		}).Should(Succeed())
	})

	It("puts a weight changed by hand at rest back within a reconcile, not at the next resync", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns)
		waitStable(ns)
		setRoutedWeight(ns, target, 30)
		Eventually(func() int32 { return routedWeight(ns, target) }, deadline.Scale(15*time.Second)).Should(Equal(int32(0)))
	})

	It("puts the routes of a named VirtualService back in line when one of them is edited", func() {
		ns := newNamespace()
		vs := userVirtualService(ns)
		second := vs.Spec.Http[1].DeepCopy()
		second.Name = "main-v2"
		vs.Spec.Http = append(vs.Spec.Http, second)
		Expect(k8s.Create(ctx, vs)).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.TrafficRouting.Istio.VirtualService.Name = "shop-routes"
			c.Spec.TrafficRouting.Istio.VirtualService.Routes = []string{"main", "main-v2"}
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: &v1alpha1.Pause{}}}
		})
		Eventually(func(g Gomega) { g.Expect(getCanary(ns).Status.StableRevision).NotTo(BeEmpty()) }).Should(Succeed())
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, "shop-routes") }).Should(Equal(int32(25)))

		got := &istionetworking.VirtualService{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "shop-routes"}, got)).To(Succeed())
		got.Spec.Http[2].Route[0].Weight, got.Spec.Http[2].Route[1].Weight = 40, 60
		Expect(k8s.Update(ctx, got)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "shop-routes"}, got)).To(Succeed())
			g.Expect(got.Spec.Http[2].Route[1].Weight).To(Equal(int32(25)))
			g.Expect(got.Spec.Http[1].Route[1].Weight).To(Equal(int32(25)))
		}, deadline.Scale(15*time.Second)).Should(Succeed())
		Expect(getCanary(ns).Status.CurrentStep).To(BeNumerically("<=", 1), "an edit is no reason to advance")
	})

	It("stalls with the router's reason when a named VirtualService cannot be managed", func() {
		ns := newNamespace()
		vs := userVirtualService(ns)
		vs.Spec.Http[1].Route[1].Destination.Host = "somewhere-else"
		Expect(k8s.Create(ctx, vs)).To(Succeed())
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) { c.Spec.TrafficRouting.Istio.VirtualService.Name = "shop-routes" })
		Eventually(func(g Gomega) {
			stalled := conditionOf(getCanary(ns), v1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonRouteUnmanageable))
			g.Expect(stalled.Message).To(ContainSubstring("shop-routes"))
		}).Should(Succeed())
		Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(1)), "the user's Deployment keeps serving")
	})
})
