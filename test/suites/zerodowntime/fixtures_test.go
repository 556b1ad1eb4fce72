package zerodowntime

import (
	"fmt"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/mesh"
)

// newNamespace creates a namespace and waits for the default ServiceAccount
// pods need.
func newNamespace(prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	Eventually(func() error {
		return k8s.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: "default"}, &corev1.ServiceAccount{})
	}).Should(Succeed())
	return ns.Name
}

// newApp creates the user's Deployment running image and waits until all
// its pods are ready. Each edit changes the Deployment before it is created.
func newApp(ns, name, image string, replicas int32, edits ...func(*appsv1.Deployment)) {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: name, Image: image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
	for _, edit := range edits {
		edit(d)
	}
	Expect(k8s.Create(ctx, d)).To(Succeed())
	Eventually(func(g Gomega) {
		d := getDeployment(ns, name)
		g.Expect(d.Status.ReadyReplicas).To(Equal(replicas))
	}).Should(Succeed())
}

// newService creates the user's own Service for the app, as it runs before
// Sluice.
func newService(ns, name string) {
	Expect(k8s.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 9898, Protocol: corev1.ProtocolTCP}},
		},
	})).To(Succeed())
}

func getDeployment(ns, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	ExpectWithOffset(1, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, d)).To(Succeed())
	return d
}

// setImage changes the app's image: a new revision.
func setImage(ns, name, image string) {
	d := getDeployment(ns, name)
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = image
	Expect(k8s.Patch(ctx, d, patch)).To(Succeed())
}

// images says how each version answers: v1 and v2 are healthy (0%
// errors), so that every request the mesh fails is one Sluice caused;
// v2-bad answers 30% of its requests with 500, for the analysis to catch
// (the application's own errors, never counted as an outage).
var images = map[string]mesh.Behaviour{"v1": {}, "v2": {}, "v2-bad": {ErrorFraction: 0.3}}

// startTraffic sends live traffic to the app's apex Service, split by the
// VirtualService vs when it exists ("" for none), resolving Services to
// ready pods as kube-proxy and Envoy do.
func startTraffic(ns, name, vs string) *mesh.Mesh {
	standIns := map[string]mesh.Behaviour{}
	for _, w := range []string{name, workload.PrimaryName(name), workload.ColorName(name, v1alpha1.ColorBlue),
		workload.ColorName(name, v1alpha1.ColorGreen)} {
		standIns[w] = mesh.Behaviour{}
	}
	m, err := mesh.Start(ctx, mesh.Options{
		Client: k8s, Namespace: ns, VirtualService: vs, Default: name, Rate: rate,
		Endpoints: true, Images: images, StandIns: standIns,
	})
	Expect(err).NotTo(HaveOccurred())
	return m
}

// served is the number of requests the stand-ins answered.
func served(m *mesh.Mesh, name string) int64 {
	var n int64
	for _, w := range []string{name, workload.PrimaryName(name), workload.ColorName(name, v1alpha1.ColorBlue),
		workload.ColorName(name, v1alpha1.ColorGreen)} {
		n += m.Sent(w)
	}
	return n
}

// measure stops the traffic and returns its counts as a report row.
func measure(m *mesh.Mesh, name string) (failed int64, row string) {
	Expect(m.Stop()).To(Succeed())
	failed = m.OutageFailures()
	row = fmt.Sprintf("%d failed of %d (no-route %d, destination-missing %d, no-endpoint %d)",
		failed, served(m, name)+m.Unrouted(), m.Failures(mesh.CauseNoRoute), m.Failures(mesh.CauseDestinationMissing),
		m.Failures(mesh.CauseNoEndpoint))
	return failed, row
}

// canary is a Canary for the app with a generated VirtualService: a 25%
// step, then a pause a command ends.
func canary(ns, name string) *v1alpha1.Canary {
	return &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.CanarySpec{
			TargetRef:               v1alpha1.TargetRef{Name: name},
			Service:                 v1alpha1.ServicePort{Port: 9898},
			TrafficRouting:          v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps:                   []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](25)}, {Pause: &v1alpha1.Pause{}}},
			ProgressDeadlineSeconds: 120,
		},
	}
}

// blueGreen is a BlueGreen for the app, promoted automatically, the old
// color kept scaled for 5 s.
func blueGreen(ns, name string) *v1alpha1.BlueGreen {
	return &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef:               v1alpha1.TargetRef{Name: name},
			Service:                 v1alpha1.ServicePort{Port: 9898},
			ScaleDownDelay:          &metav1.Duration{Duration: 5 * time.Second},
			ProgressDeadlineSeconds: 120,
		},
	}
}

// ready reports whether a release object's Ready condition is True.
func ready(conds []metav1.Condition) bool {
	for _, c := range conds {
		if c.Type == v1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// gone waits for obj to be deleted, then for the pods of Sluice's
// Deployments to go away, with traffic flowing all the while.
func gone(obj client.Object, ns string, owned ...string) {
	Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue(), "the finalizer completes")
	for _, d := range owned {
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: d}, &appsv1.Deployment{}))
		}).Should(BeTrue(), "the garbage collector deletes %s", d)
	}
	Eventually(func(g Gomega) {
		pods := &corev1.PodList{}
		g.Expect(k8s.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
		for _, p := range pods.Items {
			g.Expect(p.Labels).NotTo(HaveKey(workload.LabelWorkload), "pod %s of a Sluice copy is still there", p.Name)
		}
	}).Should(Succeed())
	time.Sleep(time.Second) // a last second of traffic on what is left
}
