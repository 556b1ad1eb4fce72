package bluegreen_test

import (
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

const target = "orders"

// newNamespace creates a namespace for one test.
func newNamespace() string { return controllertest.NewNamespace(ctx, k8s, "bluegreen-") }

// newTarget creates the user's Deployment.
func newTarget(ns, image string, replicas int32) {
	Expect(k8s.Create(ctx, controllertest.Target(ns, target, image, replicas))).To(Succeed())
}

// passing is a phase analysis whose one check always passes on the real
// Prometheus; failing is one whose check always fails.
func phaseAnalysis(query string, checks int32) *v1alpha1.PhaseAnalysis {
	return &v1alpha1.PhaseAnalysis{Checks: checks, Analysis: v1alpha1.Analysis{
		Interval:     &metav1.Duration{Duration: 5 * time.Second},
		FailureLimit: 1,
		Provider:     &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: suite.Prometheus.URL()},
		Metrics: []v1alpha1.Metric{{
			Name: "error-rate", Query: query, ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.5)},
		}},
	}}
}

func newBlueGreen(ns string, mutate ...func(*v1alpha1.BlueGreen)) {
	bg := &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: ns},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef:               v1alpha1.TargetRef{Name: target},
			Service:                 v1alpha1.ServicePort{Port: 8080},
			ScaleDownDelay:          &metav1.Duration{Duration: 2 * time.Second},
			ProgressDeadlineSeconds: 60,
		},
	}
	for _, m := range mutate {
		m(bg)
	}
	Expect(k8s.Create(ctx, bg)).To(Succeed())
}

func getBlueGreen(ns string) *v1alpha1.BlueGreen {
	bg := &v1alpha1.BlueGreen{}
	ExpectWithOffset(1, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target}, bg)).To(Succeed())
	return bg
}

func getDeployment(ns, name string) *appsv1.Deployment {
	return controllertest.GetDeployment(ctx, k8s, ns, name)
}

// replicasOf is a color's spec.replicas, -1 while it does not exist.
func replicasOf(ns string, c v1alpha1.Color) int32 {
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: workload.ColorName(target, c)}, d); err != nil {
		return -1
	}
	return workload.DesiredReplicas(d)
}

// imageOf is a color's image, "" while it does not exist.
func imageOf(ns string, c v1alpha1.Color) string {
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: workload.ColorName(target, c)}, d); err != nil {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// setImage changes the target's image: a new revision.
func setImage(ns, image string) string { return controllertest.SetImage(ctx, k8s, ns, target, image) }

// command writes a manual command as kubectl sluice does.
func command(ns string, cmd v1alpha1.Command) {
	controllertest.Command(ctx, k8s, getBlueGreen(ns), cmd)
}

func conditionOf(bg *v1alpha1.BlueGreen, typ string) metav1.Condition {
	return controllertest.Condition(bg.Status.Conditions, typ)
}

// selected is the color a Service selects, "" when it does not exist.
func selected(ns, name string) v1alpha1.Color {
	svc := &corev1.Service{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, svc); err != nil {
		return ""
	}
	return v1alpha1.Color(svc.Spec.Selector[workload.LabelColor])
}

// waitStable waits for the first version to serve from one color.
func waitStable(ns string) *v1alpha1.BlueGreen {
	var bg *v1alpha1.BlueGreen
	EventuallyWithOffset(1, func(g Gomega) {
		bg = getBlueGreen(ns)
		g.Expect(bg.Status.ActiveColor).NotTo(BeEmpty())
		g.Expect(conditionOf(bg, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue), "%+v", bg.Status.Conditions)
		g.Expect(selected(ns, target)).To(Equal(bg.Status.ActiveColor))
	}).Should(Succeed())
	return bg
}

// recordColors records every distinct color the active Service selects.
func recordColors(ns string) *apiserver.Changes[v1alpha1.Color] {
	return apiserver.RecordChanges(20*time.Millisecond, func() (v1alpha1.Color, bool) {
		c := selected(ns, target)
		return c, c != ""
	})
}
