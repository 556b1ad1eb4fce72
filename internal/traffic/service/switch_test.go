package service_test

import (
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

var releases int

// newRelease creates a BlueGreen and its Services, the active one on blue.
func newRelease() *v1alpha1.BlueGreen {
	releases++
	name := fmt.Sprintf("app%d", releases)
	bg := &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef: v1alpha1.TargetRef{Kind: "Deployment", Name: name},
			Service:   v1alpha1.ServicePort{Port: 9898},
		},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, bg)).To(Succeed())
	labels := map[string]string{"app": name}
	target := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "podinfo:6.0.0"}}},
			},
		},
	}
	for _, color := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
		ExpectWithOffset(1, workload.EnsureDeployment(ctx, k8sClient, workload.ColorCopy(bg, target, color, 1))).To(Succeed())
		setReady(workload.ColorName(name, color), 1)
	}
	svcs, err := workload.BlueGreenServices(bg, target, v1alpha1.ColorBlue)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, workload.EnsureServices(ctx, k8sClient, bg, svcs)).To(Succeed())
	return bg
}

// setReady writes the status the Deployment controller would once ready
// pods of the current template run (no controller runs in the suite).
func setReady(name string, ready int32) {
	d := &appsv1.Deployment{}
	ExpectWithOffset(2, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, d)).To(Succeed())
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: ready, AvailableReplicas: ready,
	}
	ExpectWithOffset(2, k8sClient.Status().Update(ctx, d)).To(Succeed())
}

// getService reads a Service of the test namespace.
func getService(name string) *corev1.Service {
	s := &corev1.Service{}
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, s)).To(Succeed())
	return s
}

// writesTo counts the writes to Service name after resourceVersion rv, as a
// watch from rv sees them.
func writesTo(name, rv string) int {
	w, err := k8sClient.Watch(ctx, &corev1.ServiceList{}, client.InNamespace(namespace),
		&client.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name), Raw: &metav1.ListOptions{ResourceVersion: rv}})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer w.Stop()
	n := 0
	for {
		select {
		case ev := <-w.ResultChan():
			if ev.Type == watch.Modified {
				n++
			}
		case <-time.After(500 * time.Millisecond):
			return n
		}
	}
}

var _ = Describe("The BlueGreen flip", func() {
	It("moves the active Service to the new color in one write and points the preview at the old one", func() {
		bg := newRelease()
		name := bg.Spec.TargetRef.Name
		activeRV, previewRV := getService(name).ResourceVersion, getService(name+"-preview").ResourceVersion

		Expect(service.Switch(ctx, k8sClient, bg, v1alpha1.ColorGreen)).To(BeTrue())

		Expect(getService(name).Spec.Selector).To(Equal(map[string]string{"app": name, workload.LabelColor: "green"}))
		Expect(getService(name + "-preview").Spec.Selector).To(Equal(map[string]string{"app": name, workload.LabelColor: "blue"}))
		Expect(service.ActiveColor(ctx, k8sClient, bg)).To(Equal(v1alpha1.ColorGreen))
		Expect(writesTo(name, activeRV)).To(Equal(1))
		Expect(writesTo(name+"-preview", previewRV)).To(Equal(1))
		Expect(getService(name).Spec.Ports).To(Equal([]corev1.ServicePort{{
			Name: "http", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromInt32(9898),
		}}), "nothing but the color changes")
	})

	It("writes nothing when the active Service already points at the color", func() {
		bg := newRelease()
		name := bg.Spec.TargetRef.Name
		activeRV, previewRV := getService(name).ResourceVersion, getService(name+"-preview").ResourceVersion

		Expect(service.Switch(ctx, k8sClient, bg, v1alpha1.ColorBlue)).To(BeFalse())
		Expect(getService(name).ResourceVersion).To(Equal(activeRV))
		Expect(getService(name + "-preview").ResourceVersion).To(Equal(previewRV))
	})

	It("flips back as one more flip", func() {
		bg := newRelease()
		Expect(service.Switch(ctx, k8sClient, bg, v1alpha1.ColorGreen)).To(BeTrue())
		Expect(service.Switch(ctx, k8sClient, bg, v1alpha1.ColorBlue)).To(BeTrue())
		Expect(service.ActiveColor(ctx, k8sClient, bg)).To(Equal(v1alpha1.ColorBlue))
	})

	It("is refused, with nothing written, when the color has no ready pod", func() {
		bg := newRelease()
		name := bg.Spec.TargetRef.Name
		setReady(name+"-green", 0)
		activeRV := getService(name).ResourceVersion

		_, err := service.Switch(ctx, k8sClient, bg, v1alpha1.ColorGreen)
		Expect(errors.Is(err, service.ErrColorNotReady)).To(BeTrue(), "%v", err)
		Expect(getService(name).ResourceVersion).To(Equal(activeRV))
	})

	It("is refused, with nothing written, when the color has one ready pod of three", func() {
		bg := newRelease()
		name := bg.Spec.TargetRef.Name
		green := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name + "-green"}, green)).To(Succeed())
		green.Spec.Replicas = ptr.To[int32](3)
		Expect(k8sClient.Update(ctx, green)).To(Succeed())
		green.Status = appsv1.DeploymentStatus{ObservedGeneration: green.Generation, Replicas: 3, UpdatedReplicas: 3,
			ReadyReplicas: 1, AvailableReplicas: 1}
		Expect(k8sClient.Status().Update(ctx, green)).To(Succeed())
		activeRV := getService(name).ResourceVersion

		_, err := service.Switch(ctx, k8sClient, bg, v1alpha1.ColorGreen)
		Expect(errors.Is(err, service.ErrColorNotReady)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("(1/3)"))
		Expect(getService(name).ResourceVersion).To(Equal(activeRV))
	})

	It("is refused on a Service the BlueGreen does not own, which is left alone", func() {
		bg := newRelease()
		other := bg.DeepCopy()
		other.UID = "not-the-owner"

		_, err := service.Switch(ctx, k8sClient, other, v1alpha1.ColorGreen)
		var notOwned *workload.NotOwnedError
		Expect(errors.As(err, &notOwned)).To(BeTrue(), "%v", err)
		Expect(service.ActiveColor(ctx, k8sClient, bg)).To(Equal(v1alpha1.ColorBlue))
	})
})
