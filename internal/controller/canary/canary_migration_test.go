package canary_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// serviceKind names Services in a apiserver.History.
var serviceKind = fmt.Sprintf("%T", &corev1.ServiceList{})

// legacyPrimary creates the primary as a Sluice from before the label
// rename made it for newTarget(ns, image, …): the target's selector plus the
// workload label, its pods carrying the target's labels, controlled by the
// Canary c.
func legacyPrimary(c *v1alpha1.Canary, image string, replicas int32) *appsv1.Deployment {
	name := workload.PrimaryName(target)
	labels := map[string]string{"app": target, workload.LabelWorkload: name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: map[string]string{workload.LabelWorkload: name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Canary", Name: c.Name,
				UID: c.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "podinfo", Image: image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
	Expect(k8s.Create(ctx, d)).To(Succeed())
	return d
}

var _ = Describe("A primary made before its pods' labels were renamed", func() {
	It("keeps serving as it is, and is replaced during the next promotion only while the canary has all the traffic", func() {
		ns := newNamespace()
		c := newCanary(ns) // no target yet: nothing is created
		legacy := legacyPrimary(c, "podinfo:v1", 2)
		newTarget(ns, "podinfo:v1", 2)
		waitStable(ns)

		By("at rest the older primary and its selector are kept, and the Services select its pods")
		Consistently(func(g Gomega) {
			p := getDeployment(ns, workload.PrimaryName(target))
			g.Expect(p.UID).To(Equal(legacy.UID), "not replaced while it serves")
			g.Expect(p.Spec.Selector.MatchLabels).To(HaveKeyWithValue("app", target))
			g.Expect(getService(ns, target).Spec.Selector).To(Equal(legacy.Spec.Selector.MatchLabels))
			g.Expect(getService(ns, workload.PrimaryName(target)).Spec.Selector).To(Equal(legacy.Spec.Selector.MatchLabels))
		}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

		By("a release: the primary is replaced once the canary carries all the traffic")
		h, err := suite.WatchHistory(ctx, ns, &appsv1.DeploymentList{}, &istionetworking.VirtualServiceList{}, &corev1.ServiceList{})
		Expect(err).NotTo(HaveOccurred())
		setImage(ns, "podinfo:v2")
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.CanaryRevision).To(BeEmpty())
			g.Expect(c.Status.StableRevision).To(Equal(workload.Revision(&getDeployment(ns, target).Spec.Template)))
			g.Expect(workload.DesiredReplicas(getDeployment(ns, target))).To(BeZero())
		}).Should(Succeed())
		versions := h.Stop()

		p := getDeployment(ns, workload.PrimaryName(target))
		Expect(p.UID).NotTo(Equal(legacy.UID), "replaced")
		primaryPods := map[string]string{"app": target + "-primary", workload.LabelWorkload: workload.PrimaryName(target)}
		Expect(p.Spec.Selector.MatchLabels).To(Equal(primaryPods))
		Expect(p.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:v2"))
		Expect(*p.Spec.Replicas).To(Equal(int32(2)), "created at the canary's size")
		Expect(getService(ns, target).Spec.Selector).To(Equal(primaryPods))
		Expect(getService(ns, workload.PrimaryName(target)).Spec.Selector).To(Equal(primaryPods))

		type frame struct {
			primaryUID types.UID
			weight     int32
			apex       string
		}
		frames, _ := apiserver.Replay(versions, func(s apiserver.State) (frame, bool) {
			f := frame{weight: -1}
			if d, ok := s.Get(deploymentKind, workload.PrimaryName(target)).(*appsv1.Deployment); ok {
				f.primaryUID = d.UID
			}
			if vs, ok := s.Get(vsKind, target).(*istionetworking.VirtualService); ok {
				f.weight = weightOf(vs)
			}
			if svc, ok := s.Get(serviceKind, target).(*corev1.Service); ok {
				f.apex = svc.Spec.Selector["app"]
			}
			return f, true
		})
		seenLegacy, replaced := false, false
		for i, f := range frames {
			switch {
			case f.primaryUID == legacy.UID:
				seenLegacy = true
			case seenLegacy && f.primaryUID == "":
				replaced = true
				Expect(f.weight).To(Equal(int32(100)), "no primary while the route sent it traffic: frame %d of %+v", i, frames)
				Expect(f.apex).To(Equal(target), "the apex selects the canary's pods while the primary is re-created")
			}
		}
		Expect(seenLegacy && replaced).To(BeTrue(), "the recorder saw the older primary and its replacement: %+v", frames)
	})
})
