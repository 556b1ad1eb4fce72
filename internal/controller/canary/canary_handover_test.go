package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// handoverDrain is the drain delay of the Canaries in this file.
const handoverDrain = 3 * time.Second

// frame is what the API server held at one moment: the canary weight in
// the VirtualService, the primary's image and the target's replicas.
type frame struct {
	weight   int32
	image    string
	replicas int32
	at       time.Time
}

// handover records, by watch, every version of the VirtualService and the
// Deployments, and replays them into frames in the order stored: a poll
// would miss a frame the operator holds for less than its interval.
type handover struct {
	h  *apiserver.History
	ns string
}

// latest is the last frame recorded; a test waits for it, not for the API
// server alone, before it stops the recorder, so the frame it asserts on
// is recorded.
func (h *handover) latest() frame {
	frames := framesOf(h.h.Versions())
	if len(frames) == 0 {
		return frame{replicas: -1}
	}
	return frames[len(frames)-1]
}

func recordHandover(ns string) *handover {
	h, err := suite.WatchHistory(ctx, ns, &istionetworking.VirtualServiceList{}, &appsv1.DeploymentList{})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return &handover{h: h, ns: ns}
}

// framesOf replays versions into the frames they make, each with the time
// its last version was seen.
func framesOf(versions []apiserver.Version) []frame {
	type key struct {
		weight   int32
		image    string
		replicas int32
	}
	keys, seen := apiserver.Replay(versions, func(s apiserver.State) (key, bool) {
		vs, okV := s.Get(vsKind, target).(*istionetworking.VirtualService)
		p, okP := s.Get(deploymentKind, workload.PrimaryName(target)).(*appsv1.Deployment)
		t, okT := s.Get(deploymentKind, target).(*appsv1.Deployment)
		if !okV || !okP || !okT || len(p.Spec.Template.Spec.Containers) == 0 {
			return key{}, false
		}
		return key{weightOf(vs), p.Spec.Template.Spec.Containers[0].Image, workload.DesiredReplicas(t)}, true
	})
	frames := make([]frame, len(keys))
	for i, k := range keys {
		frames[i] = frame{weight: k.weight, image: k.image, replicas: k.replicas, at: seen[i]}
	}
	return frames
}

// Stop ends the recording and returns the frames seen.
func (h *handover) Stop() []frame { return framesOf(h.h.Stop()) }

// expectImageChangedUnder100 asserts that the primary's image changed only
// between two frames that both saw 100% on the canary.
func expectImageChangedUnder100(frames []frame) {
	changes := 0
	for i := 1; i < len(frames); i++ {
		if frames[i].image == frames[i-1].image {
			continue
		}
		changes++
		Expect(frames[i-1].weight).To(Equal(int32(100)), "the primary took %s while the canary weight was %d: %+v",
			frames[i].image, frames[i-1].weight, frames)
		Expect(frames[i].weight).To(Equal(int32(100)), "the primary took %s while the canary weight was %d: %+v",
			frames[i].image, frames[i].weight, frames)
	}
	Expect(changes).To(BeNumerically(">", 0), "the primary's image never changed: %+v", frames)
}

// expectDrainedScaleDown asserts that the target went to zero replicas only
// with the weight at 0, at least the drain delay after the weight was first
// seen at 0 (less the poll interval).
func expectDrainedScaleDown(frames []frame) {
	var zeroSince time.Time
	scaled := false
	for i := 1; i < len(frames); i++ {
		f, prev := frames[i], frames[i-1]
		if f.weight == 0 && prev.weight != 0 {
			zeroSince = f.at
		}
		if f.replicas == 0 && prev.replicas > 0 {
			scaled = true
			Expect(f.weight).To(BeZero(), "the canary was scaled down with weight %d: %+v", f.weight, frames)
			Expect(f.at.Sub(zeroSince)).To(BeNumerically(">=", handoverDrain-50*time.Millisecond),
				"the canary was scaled down %s after the weight went to 0: %+v", f.at.Sub(zeroSince), frames)
		}
	}
	Expect(scaled).To(BeTrue(), "the canary was never scaled down: %+v", frames)
}

func drainIn(c *v1alpha1.Canary) {
	c.Spec.DrainDelay = &metav1.Duration{Duration: handoverDrain}
}

var _ = Describe("A Canary hand-over", func() {
	It("changes the primary only under 100% on the canary, and scales the canary down after the drain", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 3)
		newCanary(ns, drainIn)
		waitStable(ns)

		h := recordHandover(ns)
		rev := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.StableRevision).To(Equal(rev))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
			g.Expect(h.latest().replicas).To(BeZero(), "the recorder saw the canary at zero")
		}).Should(Succeed())
		frames := h.Stop()

		expectImageChangedUnder100(frames)
		expectDrainedScaleDown(frames)
		weights := []int32{}
		for _, f := range frames {
			if n := len(weights); n == 0 || weights[n-1] != f.weight {
				weights = append(weights, f.weight)
			}
		}
		Expect(weights).To(Equal([]int32{0, 10, 50, 100, 0}))
		c := getCanary(ns)
		Expect(c.Status.DrainStartedAt).NotTo(BeNil())
		Expect(c.Status.CanaryFullAt).To(BeNil())
	})

	It("gives a Recreate target's primary a strategy that never goes below its ready size", func() {
		ns := newNamespace()
		d := newTargetWith(ns, "podinfo:v1", 2, appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType})
		Expect(d.Spec.Strategy.Type).To(Equal(appsv1.RecreateDeploymentStrategyType))
		newCanary(ns, drainIn)
		waitStable(ns)

		primary := getDeployment(ns, workload.PrimaryName(target))
		Expect(primary.Spec.Strategy.Type).To(Equal(appsv1.RollingUpdateDeploymentStrategyType))
		Expect(primary.Spec.Strategy.RollingUpdate.MaxUnavailable).To(Equal(ptr.To(intstr.FromInt32(0))))
		Expect(primary.Spec.Strategy.RollingUpdate.MaxSurge).To(Equal(ptr.To(intstr.FromString("25%"))))

		h := recordHandover(ns)
		rev := setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			g.Expect(getCanary(ns).Status.StableRevision).To(Equal(rev))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
			g.Expect(h.latest().replicas).To(BeZero(), "the recorder saw the canary at zero")
		}).Should(Succeed())
		frames := h.Stop()
		expectImageChangedUnder100(frames)
		expectDrainedScaleDown(frames)
	})

	It("keeps all traffic on the canary when aborted while the primary rolls, until the primary is back", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, drainIn)
		waitStable(ns)

		By("holding the primary's rollout of v2 (its pods never become ready)")
		setNeverReady(ns, workload.PrimaryName(target), true)
		h := recordHandover(ns)
		setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.CanaryFullAt).NotTo(BeNil())
			g.Expect(getDeployment(ns, workload.PrimaryName(target)).Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v2"))
		}).Should(Succeed())

		By("aborting: the canary keeps 100% while the primary gets v1 back")
		command(ns, v1alpha1.CommandAbort)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.AbortedAt).NotTo(BeNil())
			g.Expect(getDeployment(ns, workload.PrimaryName(target)).Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v1"))
		}).Should(Succeed())
		Consistently(func() int32 { return routedWeight(ns, target) }, 2*time.Second).Should(Equal(int32(100)),
			"the primary is not ready yet, so the canary keeps the traffic")

		By("letting the primary's pods become ready: traffic returns, then the canary drains")
		setNeverReady(ns, workload.PrimaryName(target), false)
		Eventually(func(g Gomega) {
			g.Expect(routedWeight(ns, target)).To(BeZero())
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
			g.Expect(h.latest().replicas).To(BeZero(), "the recorder saw the canary at zero")
		}).Should(Succeed())
		frames := h.Stop()
		expectDrainedScaleDown(frames)
		for i := 1; i < len(frames); i++ {
			if frames[i].image != frames[i-1].image {
				Expect(frames[i-1].weight).To(Equal(int32(100)), "primary changed under weight %d: %+v", frames[i-1].weight, frames)
			}
		}
	})

	It("scales a rolled-back canary down only after the weight reads 0 and the drain delay", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 2)
		newCanary(ns, drainIn, func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](20)}, {Pause: &v1alpha1.Pause{}}}
		})
		waitStable(ns)
		setImage(ns, "podinfo:v2")
		Eventually(func() int32 { return routedWeight(ns, target) }).Should(Equal(int32(20)))

		h := recordHandover(ns)
		command(ns, v1alpha1.CommandAbort)
		Eventually(func(g Gomega) {
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
			g.Expect(h.latest().replicas).To(BeZero(), "the recorder saw the canary at zero")
		}).Should(Succeed())
		frames := h.Stop()
		expectDrainedScaleDown(frames)
		Expect(getCanary(ns).Status.DrainStartedAt).NotTo(BeNil())
	})
})

// setNeverReady makes the Deployment stand-in report no ready pod for the
// Deployment name (on), or every pod ready again (off).
func setNeverReady(ns, name string, on bool) { controllertest.SetNeverReady(ctx, k8s, ns, name, on) }
