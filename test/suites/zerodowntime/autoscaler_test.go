package zerodowntime

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// cpuRequest is what each pod of an autoscaled app requests; the
// autoscaler aims at half of it (utilisation 50%).
const cpuRequest = 100

// cpuLoad is the CPU, in millicores, that the live traffic of an app costs
// in all, by namespace: the stand-in metrics API spreads it over the
// primary and the canary by their share of the traffic (the weight of the
// generated VirtualService), then evenly over each one's ready pods. So
// replicas = ceil(load / 50m) at rest, as with a real service.
var cpuLoad struct {
	sync.Mutex
	app   map[string]string // namespace → app
	milli map[string]int64  // namespace → millicores
}

// setLoad sets the CPU cost of an app's traffic.
func setLoad(ns, app string, milli int64) {
	cpuLoad.Lock()
	defer cpuLoad.Unlock()
	if cpuLoad.app == nil {
		cpuLoad.app, cpuLoad.milli = map[string]string{}, map[string]int64{}
	}
	cpuLoad.app[ns], cpuLoad.milli[ns] = app, milli
}

// podUsage is the metrics API stand-in's source (cluster.PodUsage).
func podUsage(ns string, pods []corev1.Pod) []corev1.ResourceList {
	cpuLoad.Lock()
	app, ok := cpuLoad.app[ns]
	total := cpuLoad.milli[ns]
	cpuLoad.Unlock()
	if !ok {
		return nil
	}
	weight := canaryWeight(ns, app) // -1: no route yet, the app serves alone
	share := func(w string) float64 {
		switch {
		case w == workload.PrimaryName(app):
			return float64(100-max(weight, 0)) / 100
		case w == app && weight >= 0:
			return float64(weight) / 100
		case w == app:
			return 1
		}
		return 0
	}
	ready := map[string]int{}
	for i := range pods {
		if podServes(&pods[i]) {
			ready[deploymentOf(&pods[i])]++
		}
	}
	out := make([]corev1.ResourceList, len(pods))
	for i := range pods {
		milli := int64(0)
		if w := deploymentOf(&pods[i]); podServes(&pods[i]) {
			milli = int64(float64(total) * share(w) / float64(ready[w]))
		}
		out[i] = corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(milli, resource.DecimalSI)}
	}
	return out
}

// podServes reports a pod that is ready and not terminating.
func podServes(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// deploymentOf names the Deployment owning a pod through its ReplicaSet.
func deploymentOf(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Kind == "ReplicaSet" {
			return strings.TrimSuffix(ref.Name, "-"+p.Labels[appsv1.DefaultDeploymentUniqueLabelKey])
		}
	}
	return ""
}

// withCPURequest makes each pod of the app request cpuRequest millicores.
func withCPURequest(d *appsv1.Deployment) {
	d.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{
		corev1.ResourceCPU: *resource.NewMilliQuantity(cpuRequest, resource.DecimalSI)}
}

// userAutoscaler is the user's HPA on their Deployment: CPU at 50%, 1 to
// 10 replicas, scaling up at once and down after 60 s of lower load (a
// promotion leaves the primary without traffic for a few seconds).
func userAutoscaler(ns, name string) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    ptr.To[int32](1), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
					Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](0),
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 1}}},
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60),
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 1}}},
			},
		},
	}
}

// expectScaledTo waits until the autoscaler hpa has the Deployment key at
// n replicas, all ready.
func expectScaledTo(key, hpa types.NamespacedName, n int32) {
	EventuallyWithOffset(1, func(g Gomega) {
		d := getDeployment(key.Namespace, key.Name)
		h := &autoscalingv2.HorizontalPodAutoscaler{}
		g.Expect(k8s.Get(ctx, hpa, h)).To(Succeed())
		g.Expect(workload.DesiredReplicas(d)).To(Equal(n), "the autoscaler's status: %+v", h.Status)
		g.Expect(d.Status.ReadyReplicas).To(Equal(n))
	}).WithTimeout(time.Minute).Should(Succeed(), "%s scaled to %d", key.Name, n)
}

// fullRun reports whether the long form runs (make test-zerodowntime).
func fullRun() bool { return os.Getenv("SLUICE_ZERODOWNTIME") == "full" }

// scalingActive is the autoscaler's ScalingActive condition.
func scalingActive(key types.NamespacedName) autoscalingv2.HorizontalPodAutoscalerCondition {
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	Expect(k8s.Get(ctx, key, h)).To(Succeed())
	for _, c := range h.Status.Conditions {
		if c.Type == autoscalingv2.ScalingActive {
			return c
		}
	}
	return autoscalingv2.HorizontalPodAutoscalerCondition{}
}

var _ = Describe("A real HorizontalPodAutoscaler", func() {
	It("scales the user's Deployment on CPU read through the aggregated resource metrics API", func() {
		const name = "web"
		ns := newNamespace("hpa")
		key := types.NamespacedName{Namespace: ns, Name: name}
		setLoad(ns, name, 100)
		newApp(ns, name, "podinfo:v1", 2, withCPURequest)
		Expect(k8s.Create(ctx, userAutoscaler(ns, name))).To(Succeed())
		setLoad(ns, name, 250)
		expectScaledTo(key, key, 5)
		Expect(scalingActive(key).Status).To(Equal(corev1.ConditionTrue), "%+v", scalingActive(key))
	})

	It("keeps the primary autoscaled through a Canary release when the user's HPA is on the primary itself", func() {
		if !fullRun() {
			Skip("the older workaround, run by make test-zerodowntime; make test runs the HPA on the target")
		}
		autoscaledRelease(true)()
	})
})

// setMaxReplicas edits the user's autoscaler as a user would.
func setMaxReplicas(key types.NamespacedName, n int32) {
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	ExpectWithOffset(1, k8s.Get(ctx, key, h)).To(Succeed())
	patch := client.MergeFrom(h.DeepCopy())
	h.Spec.MaxReplicas = n
	ExpectWithOffset(1, k8s.Patch(ctx, h, patch)).To(Succeed())
}

// expectActive waits until the autoscaler key acts: ScalingActive True, so
// no other autoscaler's target selects its pods (AmbiguousSelector).
func expectActive(key types.NamespacedName) {
	EventuallyWithOffset(1, func() corev1.ConditionStatus { return scalingActive(key).Status }).
		Should(Equal(corev1.ConditionTrue), "%s acts: %+v", key.Name, scalingActive(key))
}

// autoscaledRelease releases v2 of an app whose user has an HPA, on the
// target (Sluice copies it onto the primary) or on the primary itself, and
// changes the load before, during and after: the primary's replicas follow
// the HPA; no write of Sluice changes them; no request fails.
func autoscaledRelease(onPrimary bool) func() {
	return func() {
		const name = "web"
		ns := newNamespace("autoscaled")
		primary := types.NamespacedName{Namespace: ns, Name: workload.PrimaryName(name)}
		setLoad(ns, name, 100)
		newApp(ns, name, "podinfo:v1", 2, withCPURequest)
		hpa := userAutoscaler(ns, name)
		where, hpaKey := "target", primary // the copy is named after the primary
		if onPrimary {
			where, hpaKey = "primary", client.ObjectKeyFromObject(hpa)
			hpa.Spec.ScaleTargetRef.Name = primary.Name
		}
		Expect(k8s.Create(ctx, hpa)).To(Succeed())
		Expect(k8s.Create(ctx, release(ns, name, weightThenPause(nil)))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(ready(getCanary(ns, name).Status.Conditions)).To(BeTrue())
			g.Expect(k8s.Get(ctx, hpaKey, &autoscalingv2.HorizontalPodAutoscaler{})).To(Succeed(), "the primary's HPA")
			g.Expect(getDeployment(ns, name).Status.Replicas).To(BeZero())
		}).Should(Succeed())
		m := startTraffic(ns, name, name)

		By("more load: kube-controller-manager's HPA controller scales the primary up")
		setLoad(ns, name, 250)
		expectScaledTo(primary, hpaKey, 5)
		expectActive(hpaKey)

		By("a release at 25%, and more load: the primary follows, capped by an edit of the user's HPA, then freed")
		setImage(ns, name, "podinfo:v2")
		Eventually(func() int32 { return canaryWeight(ns, name) }).Should(Equal(int32(25)))
		userKey := client.ObjectKeyFromObject(hpa)
		setMaxReplicas(userKey, 5)
		Eventually(func() int32 {
			h := &autoscalingv2.HorizontalPodAutoscaler{}
			Expect(k8s.Get(ctx, hpaKey, h)).To(Succeed())
			return h.Spec.MaxReplicas
		}).Should(Equal(int32(5)), "the primary's autoscaler follows the user's")
		setLoad(ns, name, 400) // the primary's 75% is 300m: 6 pods
		Consistently(func() int32 { return workload.DesiredReplicas(getDeployment(ns, primary.Name)) }, 3*time.Second, 200*time.Millisecond).
			Should(BeNumerically("<=", 5), "capped at the edited maximum")
		setMaxReplicas(userKey, 10)
		expectScaledTo(primary, hpaKey, 6)
		if !onPrimary {
			expectActive(userKey) // the canary's pods are the target's, apart from the primary's
		}

		By("promotion: the primary runs v2 and is still autoscaled")
		commandCanary(ns, name, v1alpha1.CommandPromote)
		settled(ns, name, "podinfo:v2")
		expectScaledTo(primary, hpaKey, 8) // all 400m back on the primary
		setLoad(ns, name, 450)
		expectScaledTo(primary, hpaKey, 9)
		expectActive(hpaKey)

		underHPA := 0
		for _, w := range writesOf(primary) {
			if w.autoscaledBy != "" && w.sent != w.found {
				underHPA++
				Expect(w.sent).To(Equal(w.found), "Sluice (%s) wrote replicas %d over %d of %s, which %s scales",
					w.manager, w.sent, w.found, primary, w.autoscaledBy)
			}
		}
		canaryWrites, changes := 0, []string{}
		for _, w := range writesOf(types.NamespacedName{Namespace: ns, Name: name}) {
			canaryWrites++
			if w.sent != w.found {
				changes = append(changes, fmt.Sprintf("%d→%d", w.found, w.sent))
			}
		}
		Expect(canaryWrites).To(BeNumerically(">", 0), "the recorder saw Sluice scale the canary")
		scenario := "Canary: a real HPA on the " + where + " through a release (primary 2→5→(max 5)→6→8→9)"
		detail := fmt.Sprintf("Sluice's writes of replicas: primary under its HPA %d changing it, canary %d (changing it: %s)",
			underHPA, canaryWrites, strings.Join(changes, ", "))
		if onPrimary {
			report(scenario, finish(m, name, scenario)+"; "+detail)
			return
		}

		By("deleting the Canary: the target takes the traffic back at the primary's size and the user's HPA scales it")
		c := getCanary(ns, name)
		Expect(k8s.Delete(ctx, c)).To(Succeed())
		gone(c, ns, primary.Name)
		target := types.NamespacedName{Namespace: ns, Name: name}
		Expect(workload.DesiredReplicas(getDeployment(ns, name))).To(BeNumerically(">=", 9), "handed back at the primary's size")
		setLoad(ns, name, 550) // 61m a pod on 9: above the HPA's 10% tolerance
		expectScaledTo(target, userKey, 10)
		expectActive(userKey)
		scenario += ", then the Canary deleted (target 9→10 by the user's HPA)"
		report(scenario, finish(m, name, scenario)+"; "+detail)
	}
}
