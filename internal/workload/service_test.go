package workload_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// getService reads a Service of the test namespace.
func getService(name string) *corev1.Service {
	s := &corev1.Service{}
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, s)).To(Succeed())
	return s
}

// createReplicaSet creates a ReplicaSet controlled by d running tmpl, as the
// Deployment controller would: with the labels of its pods, pod-template-hash
// hash included.
func createReplicaSet(d *appsv1.Deployment, tmpl corev1.PodTemplateSpec, hash string) {
	t := tmpl.DeepCopy()
	t.Labels[workload.LabelPodTemplateHash] = hash
	selector := d.Spec.Selector.DeepCopy()
	selector.MatchLabels[workload.LabelPodTemplateHash] = hash
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: d.Namespace,
			Labels:          t.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, Selector: selector, Template: *t},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, rs)).To(Succeed())
}

// primaryLabels is what the primary of target selects its pods on.
func primaryLabels(target *appsv1.Deployment) map[string]string {
	l, err := workload.PrimaryPodLabels(target)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return l
}

var _ = Describe("A Canary's Services", func() {
	var (
		name   string
		target *appsv1.Deployment
		c      *v1alpha1.Canary
	)
	BeforeEach(func() {
		name = nextTarget()
		target = createTarget(name)
		c = newCanary(name)
	})

	It("select the primary pods (apex, primary) and the pods of the target's current ReplicaSet (canary)", func() {
		old := target.Spec.Template.DeepCopy()
		old.Spec.Containers[0].Image = "ghcr.io/stefanprodan/podinfo:5.0.0"
		createReplicaSet(target, *old, "oldhash")
		createReplicaSet(target, target.Spec.Template, "newhash")

		hash, err := workload.CanaryHash(ctx, k8sClient, target)
		Expect(err).NotTo(HaveOccurred())
		Expect(hash).To(Equal("newhash"))
		svcs, err := workload.CanaryServices(c, target, primaryLabels(target), hash)
		Expect(err).NotTo(HaveOccurred())
		Expect(workload.EnsureServices(ctx, k8sClient, c, svcs)).To(Succeed())

		primaryPods := map[string]string{"app": name + "-primary", workload.LabelWorkload: name + "-primary"}
		Expect(getService(name).Spec.Selector).To(Equal(primaryPods))
		Expect(getService(name + "-primary").Spec.Selector).To(Equal(primaryPods))
		Expect(getService(name + "-canary").Spec.Selector).To(Equal(map[string]string{"app": name, workload.LabelPodTemplateHash: "newhash"}))
		for _, n := range []string{name, name + "-primary", name + "-canary"} {
			s := getService(n)
			Expect(metav1.GetControllerOf(s).UID).To(Equal(c.UID))
			Expect(s.Spec.Ports).To(HaveLen(1))
			Expect(s.Spec.Ports[0].Port).To(Equal(int32(9898)))
			Expect(s.Spec.Ports[0].TargetPort).To(Equal(intstr.FromInt32(9898)))
		}
	})

	It("are not written when ensured again unchanged", func() {
		svcs, err := workload.CanaryServices(c, target, primaryLabels(target), "h1")
		Expect(err).NotTo(HaveOccurred())
		Expect(workload.EnsureServices(ctx, k8sClient, c, svcs)).To(Succeed())
		rvs := map[string]string{}
		for _, s := range svcs {
			rvs[s.Name] = getService(s.Name).ResourceVersion
		}

		Expect(workload.EnsureServices(ctx, k8sClient, c, svcs)).To(Succeed())
		for _, s := range svcs {
			Expect(getService(s.Name).ResourceVersion).To(Equal(rvs[s.Name]), s.Name)
		}
	})

	It("follow a new revision: only the canary Service's selector changes", func() {
		svcs, _ := workload.CanaryServices(c, target, primaryLabels(target), "h1")
		Expect(workload.EnsureServices(ctx, k8sClient, c, svcs)).To(Succeed())
		apex := getService(name).ResourceVersion

		svcs, _ = workload.CanaryServices(c, target, primaryLabels(target), "h2")
		Expect(workload.EnsureServices(ctx, k8sClient, c, svcs)).To(Succeed())
		Expect(getService(name + "-canary").Spec.Selector).To(HaveKeyWithValue(workload.LabelPodTemplateHash, "h2"))
		Expect(getService(name).ResourceVersion).To(Equal(apex))
	})

	It("are refused when a Service of one of their names belongs to someone else, and that one is left alone", func() {
		mine := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": name},
				Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(9898)}},
			},
		}
		Expect(k8sClient.Create(ctx, mine)).To(Succeed())

		svcs, _ := workload.CanaryServices(c, target, primaryLabels(target), "h1")
		err := workload.EnsureServices(ctx, k8sClient, c, svcs)
		var notOwned *workload.NotOwnedError
		Expect(errors.As(err, &notOwned)).To(BeTrue(), "%v", err)
		Expect(getService(name).ResourceVersion).To(Equal(mine.ResourceVersion))
	})

	It("wait for the ReplicaSet of the target's current template", func() {
		old := target.Spec.Template.DeepCopy()
		old.Spec.Containers[0].Image = "ghcr.io/stefanprodan/podinfo:5.0.0"
		createReplicaSet(target, *old, "oldhash")

		_, err := workload.CanaryHash(ctx, k8sClient, target)
		Expect(errors.Is(err, workload.ErrNoReplicaSet)).To(BeTrue(), "%v", err)
	})
})

var _ = Describe("A BlueGreen's Services", func() {
	It("select the active color (active) and the idle one (preview), owned by the BlueGreen", func() {
		name := nextTarget()
		target := createTarget(name)
		bg := newBlueGreen(name)
		svcs, err := workload.BlueGreenServices(bg, target, v1alpha1.ColorBlue)
		Expect(err).NotTo(HaveOccurred())
		Expect(workload.EnsureServices(ctx, k8sClient, bg, svcs)).To(Succeed())

		Expect(getService(name).Spec.Selector).To(Equal(map[string]string{"app": name, workload.LabelColor: "blue"}))
		Expect(getService(name + "-preview").Spec.Selector).To(Equal(map[string]string{"app": name, workload.LabelColor: "green"}))
		Expect(metav1.GetControllerOf(getService(name)).UID).To(Equal(bg.UID))
	})
})
