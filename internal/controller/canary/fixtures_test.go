package canary_test

import (
	"fmt"
	"time"

	. "github.com/onsi/gomega"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

const target = "podinfo"

// newNamespace creates a namespace for one test.
func newNamespace() string { return controllertest.NewNamespace(ctx, k8s, "canary-") }

// newTarget creates the user's Deployment.
func newTarget(ns, image string, replicas int32) *appsv1.Deployment {
	return newTargetWith(ns, image, replicas, appsv1.DeploymentStrategy{})
}

// newTargetWith creates the user's Deployment with a strategy.
func newTargetWith(ns, image string, replicas int32, strategy appsv1.DeploymentStrategy) *appsv1.Deployment {
	d := controllertest.Target(ns, target, image, replicas)
	d.Spec.Strategy = strategy
	Expect(k8s.Create(ctx, d)).To(Succeed())
	return d
}

// newCanary creates a Canary for the target with short steps and no
// analysis, changed by mutate.
func newCanary(ns string, mutate ...func(*v1alpha1.Canary)) *v1alpha1.Canary {
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: ns},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Name: target},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps: []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](10)},
				{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: time.Second}}},
				{SetWeight: ptr.To[int32](50)},
				{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: time.Second}}},
			},
			ProgressDeadlineSeconds: 60,
			DrainDelay:              &metav1.Duration{Duration: time.Second},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	Expect(k8s.Create(ctx, c)).To(Succeed())
	return c
}

func getCanary(ns string) *v1alpha1.Canary {
	c := &v1alpha1.Canary{}
	ExpectWithOffset(1, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, c)).To(Succeed())
	return c
}

func getDeployment(ns, name string) *appsv1.Deployment {
	return controllertest.GetDeployment(ctx, k8s, ns, name)
}

// setImage changes the target's image: a new revision.
func setImage(ns, image string) string { return controllertest.SetImage(ctx, k8s, ns, target, image) }

// command writes a manual command as kubectl sluice does.
func command(ns string, cmd v1alpha1.Command) { controllertest.Command(ctx, k8s, getCanary(ns), cmd) }

func conditionOf(c *v1alpha1.Canary, typ string) metav1.Condition {
	return controllertest.Condition(c.Status.Conditions, typ)
}

// routedWeight is the canary weight in the VirtualService named name, -1
// when it does not exist.
func routedWeight(ns, name string) int32 {
	vs := &istionetworking.VirtualService{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, vs); err != nil {
		return -1
	}
	return weightOf(vs)
}

// weightOf is the canary's weight in vs, or -1 when no route names it.
func weightOf(vs *istionetworking.VirtualService) int32 {
	for _, r := range vs.Spec.Http {
		for _, d := range r.Route {
			if d.Destination.GetHost() == workload.CanaryName(target) {
				return d.Weight
			}
		}
	}
	return -1
}

// waitStable waits for the first revision to be initialised and stable.
func waitStable(ns string) *v1alpha1.Canary {
	var c *v1alpha1.Canary
	EventuallyWithOffset(1, func(g Gomega) {
		c = getCanary(ns)
		g.Expect(c.Status.StableRevision).NotTo(BeEmpty())
		g.Expect(conditionOf(c, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue), "%+v", c.Status.Conditions)
		g.Expect(routedWeight(ns, target)).To(Equal(int32(0)))
		g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(Equal(int32(0)))
	}).Should(Succeed())
	return c
}

// vsKind and deploymentKind name the kinds in a apiserver.History.
var (
	vsKind         = fmt.Sprintf("%T", &istionetworking.VirtualServiceList{})
	deploymentKind = fmt.Sprintf("%T", &appsv1.DeploymentList{})
)

// weightHistory is every canary weight a VirtualService carried.
type weightHistory struct {
	h  *apiserver.History
	vs string
}

// recordWeights records, by watch, every distinct canary weight the
// VirtualService carries until stopped: a poll would miss a weight the
// operator reads back and moves past within the poll interval.
func recordWeights(ns, vs string) *weightHistory {
	h, err := suite.WatchHistory(ctx, ns, &istionetworking.VirtualServiceList{})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return &weightHistory{h: h, vs: vs}
}

// Stop ends the recording and returns the weights in the order stored.
func (w *weightHistory) Stop() []int32 { return w.replay(w.h.Stop()) }

// Seen returns the weights stored so far, in order, while the recording
// goes on.
func (w *weightHistory) Seen() []int32 { return w.replay(w.h.Versions()) }

func (w *weightHistory) replay(versions []apiserver.Version) []int32 {
	weights, _ := apiserver.Replay(versions, func(s apiserver.State) (int32, bool) {
		vs, ok := s.Get(vsKind, w.vs).(*istionetworking.VirtualService)
		if !ok {
			return 0, false
		}
		wt := weightOf(vs)
		return wt, wt >= 0
	})
	return weights
}
