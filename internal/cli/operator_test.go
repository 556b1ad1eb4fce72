package cli_test

import (
	"bytes"
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/cli"
)

// newDeployment creates the user's Deployment for a release.
func newDeployment(ns, name, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	Expect(k8s.Create(ctx, d)).To(Succeed())
	return d
}

var _ = Describe("with the operator running", func() {
	It("has an abort on a release in flight carried out, and waits for it", func() {
		runCtx, cancel := context.WithCancel(ctx)
		DeferCleanup(cancel)
		_, err := env.StartCluster(runCtx)
		Expect(err).NotTo(HaveOccurred())
		stop, err := env.StartOperator(runCtx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(stop)

		ns := newNamespace()
		d := newDeployment(ns, "podinfo", "podinfo:v1")
		cn := newCanary(ns, "podinfo")
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cn), cn)).To(Succeed())
			g.Expect(cn.Status.StableRevision).NotTo(BeEmpty())
		}).Should(Succeed())

		patch := client.MergeFrom(d.DeepCopy())
		d.Spec.Template.Spec.Containers[0].Image = "podinfo:v2"
		Expect(k8s.Patch(ctx, d, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cn), cn)).To(Succeed())
			g.Expect(cn.Status.CanaryWeight).To(Equal(int32(10)))
		}).Should(Succeed())

		var out bytes.Buffer
		Expect(cli.SendCommand(ctx, &out, k8s, v1alpha1.CommandAbort, cli.CommandOptions{
			Namespace: ns, Name: "podinfo", Now: time.Now(), Wait: 30 * time.Second, PollInterval: 100 * time.Millisecond,
		})).To(Succeed())
		Expect(out.String()).To(MatchRegexp(`canary ` + ns + `/podinfo: abort carried out: .+\n$`))

		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cn), cn)).To(Succeed())
		Expect(cn.Status.LastCommand).NotTo(BeNil())
		Expect(cn.Status.LastCommand.Name).To(Equal(v1alpha1.CommandAbort))
		Expect(cn.Status.LastCommand.ID).To(Equal(cn.Annotations[v1alpha1.CommandAnnotation(v1alpha1.CommandAbort)]))
		Expect(cn.Status.Commands).To(ContainElement(HaveField("By", cn.Annotations[v1alpha1.CommandByAnnotation(v1alpha1.CommandAbort)])))
		Expect(cn.Status.AbortedAt).NotTo(BeNil(), "the operator rolled the release back")
	})
})
