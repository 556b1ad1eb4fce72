package workload_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// createTarget creates the user's Deployment and returns it as stored, with
// the API server's defaults.
func createTarget(name string) *appsv1.Deployment {
	d := userDeployment(name, namespace)
	ExpectWithOffset(1, k8sClient.Create(ctx, d)).To(Succeed())
	return getDeployment(name)
}

// getDeployment reads a Deployment of the test namespace.
func getDeployment(name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, d)).To(Succeed())
	return d
}

// withoutLabels is a template without the given label keys.
func withoutLabels(tmpl corev1.PodTemplateSpec, keys ...string) corev1.PodTemplateSpec {
	t := tmpl.DeepCopy()
	for _, k := range keys {
		delete(t.Labels, k)
	}
	return *t
}

var _ = Describe("The primary Deployment", func() {
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

	It("is cloned from the user's pod template with its selector's labels renamed and the workload label added, owned by the Canary", func() {
		Expect(workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))).To(Succeed())

		primary := getDeployment(name + "-primary")
		Expect(primary.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app": name + "-primary", workload.LabelWorkload: name + "-primary"}))
		Expect(primary.Spec.Template.Labels).To(HaveKeyWithValue(workload.LabelWorkload, name+"-primary"))
		Expect(primary.Spec.Template.Labels).To(HaveKeyWithValue("app", name+"-primary"))
		Expect(*workload.UserTemplate(&primary.Spec.Template)).To(Equal(target.Spec.Template))
		Expect(workload.Revision(&primary.Spec.Template)).To(Equal(workload.Revision(&target.Spec.Template)))
		Expect(primary.Annotations).To(HaveKeyWithValue(workload.AnnotationRevision, workload.Revision(&target.Spec.Template)))
		Expect(*primary.Spec.Replicas).To(Equal(int32(3)))
		Expect(metav1.GetControllerOf(primary).UID).To(Equal(c.UID))

		Expect(getDeployment(name)).To(Equal(target), "the user's Deployment is not written")
	})

	It("made before the labels were renamed keeps its selector when updated, which the API server would refuse to change", func() {
		legacy := workload.PrimaryCopy(c, target, 3)
		legacy.Selector = target.Spec.Selector
		legacy.Labels = map[string]string{workload.LabelWorkload: name + "-primary"}
		Expect(workload.EnsureDeployment(ctx, k8sClient, legacy)).To(Succeed())
		existing := getDeployment(name + "-primary")
		Expect(existing.Spec.Template.Labels).To(HaveKeyWithValue("app", name))

		target.Spec.Template.Spec.Containers[0].Image = "ghcr.io/stefanprodan/podinfo:6.0.1"
		Expect(k8sClient.Update(ctx, target)).To(Succeed())
		target = getDeployment(name)
		cp := workload.PrimaryCopy(c, target, 3)
		Expect(workload.SelectorStale(existing, cp)).To(BeTrue())
		err := workload.EnsureDeployment(ctx, k8sClient, cp)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "a selector cannot change: %v", err)

		Expect(workload.EnsureDeployment(ctx, k8sClient, cp.KeepSelector(existing))).To(Succeed())
		primary := getDeployment(name + "-primary")
		Expect(primary.Spec.Selector).To(Equal(existing.Spec.Selector))
		Expect(primary.Spec.Template.Spec.Containers[0].Image).To(Equal("ghcr.io/stefanprodan/podinfo:6.0.1"))
		Expect(workload.Revision(&primary.Spec.Template)).To(Equal(workload.Revision(&target.Spec.Template)))
	})

	It("is not written when ensured again unchanged", func() {
		Expect(workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))).To(Succeed())
		rv := getDeployment(name + "-primary").ResourceVersion

		Expect(workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))).To(Succeed())
		Expect(getDeployment(name + "-primary").ResourceVersion).To(Equal(rv))
	})

	It("takes the user's new template, and its revision changes with it", func() {
		Expect(workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))).To(Succeed())
		oldRevision := workload.Revision(&getDeployment(name + "-primary").Spec.Template)

		target.Spec.Template.Spec.Containers[0].Image = "ghcr.io/stefanprodan/podinfo:6.0.1"
		target.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "COLOR", Value: "red"}}
		Expect(k8sClient.Update(ctx, target)).To(Succeed())
		target = getDeployment(name)
		Expect(workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))).To(Succeed())

		primary := getDeployment(name + "-primary")
		Expect(*workload.UserTemplate(&primary.Spec.Template)).To(Equal(target.Spec.Template))
		Expect(workload.Revision(&primary.Spec.Template)).NotTo(Equal(oldRevision))
		Expect(workload.Revision(&primary.Spec.Template)).To(Equal(workload.Revision(&target.Spec.Template)))

		By("dropping what the user dropped")
		target.Spec.Template.Spec.Containers[0].Env = nil
		Expect(k8sClient.Update(ctx, target)).To(Succeed())
		target = getDeployment(name)
		Expect(workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))).To(Succeed())
		Expect(getDeployment(name + "-primary").Spec.Template.Spec.Containers[0].Env).To(BeEmpty())
	})

	It("is refused when a Deployment of that name belongs to someone else, and that one is left alone", func() {
		other := userDeployment(name+"-primary", namespace)
		Expect(k8sClient.Create(ctx, other)).To(Succeed())

		err := workload.EnsureDeployment(ctx, k8sClient, workload.PrimaryCopy(c, target, 3))
		var notOwned *workload.NotOwnedError
		Expect(errors.As(err, &notOwned)).To(BeTrue(), "%v", err)
		Expect(getDeployment(name + "-primary").ResourceVersion).To(Equal(other.ResourceVersion))
	})
})

var _ = Describe("The color Deployments", func() {
	It("are cloned with the workload and color labels, so that pods of each color are selectable apart", func() {
		name := nextTarget()
		target := createTarget(name)
		bg := newBlueGreen(name)
		for _, color := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
			Expect(workload.EnsureDeployment(ctx, k8sClient, workload.ColorCopy(bg, target, color, 2))).To(Succeed())
			d := getDeployment(name + "-" + string(color))
			Expect(d.Spec.Selector.MatchLabels).To(Equal(map[string]string{
				"app": name, workload.LabelWorkload: name + "-" + string(color), workload.LabelColor: string(color),
			}))
			Expect(withoutLabels(d.Spec.Template, workload.LabelWorkload, workload.LabelColor)).To(Equal(target.Spec.Template))
			Expect(metav1.GetControllerOf(d).UID).To(Equal(bg.UID))
		}
	})
})

var _ = Describe("Scaling", func() {
	It("changes only the user's spec.replicas, and writes nothing when it is already there", func() {
		name := nextTarget()
		target := createTarget(name)
		key := client.ObjectKeyFromObject(target)

		Expect(workload.ScaleTo(ctx, k8sClient, key, 0)).To(BeTrue())
		scaled := getDeployment(name)
		Expect(*scaled.Spec.Replicas).To(Equal(int32(0)))
		Expect(scaled.Spec.Template).To(Equal(target.Spec.Template))
		Expect(scaled.Spec.Selector).To(Equal(target.Spec.Selector))
		Expect(scaled.Labels).To(Equal(target.Labels))
		Expect(scaled.Annotations).To(Equal(target.Annotations))

		Expect(workload.ScaleTo(ctx, k8sClient, key, 0)).To(BeFalse())
		Expect(getDeployment(name).ResourceVersion).To(Equal(scaled.ResourceVersion))
	})
})
