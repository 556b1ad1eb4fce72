package podnet

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func pod(name, ip string, ready bool, labels map[string]string) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: labels, UID: "uid-" + "name"},
		Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{
			Name: "app", Image: "reg/app:v2", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
		}}},
		Status: corev1.PodStatus{PodIP: ip, Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

func TestDesiredSlice(t *testing.T) {
	app := map[string]string{"app": "web"}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "svc-uid"},
		Spec: corev1.ServiceSpec{Selector: app, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			{Name: "admin", Port: 81, TargetPort: intstr.FromInt32(9999)},
			{Name: "missing", Port: 82, TargetPort: intstr.FromString("nope")},
		}},
	}
	t.Run("lists the selected pods with an address, ready as their Ready condition says, and resolves named ports", func(t *testing.T) {
		g := NewWithT(t)
		deleting := pod("c", "127.244.0.3", true, app)
		deleting.DeletionTimestamp = ptr.To(metav1.NewTime(time.Now()))
		es := desiredSlice(svc, []*corev1.Pod{
			pod("b", "127.244.0.2", false, app),
			pod("a", "127.244.0.1", true, app),
			deleting,
			pod("other", "127.244.0.4", true, map[string]string{"app": "other"}),
			pod("pending", "", true, app),
		})
		g.Expect(es.Name).To(Equal("web-podnet"))
		g.Expect(es.AddressType).To(Equal(discoveryv1.AddressTypeFQDN))
		g.Expect(es.Labels).To(HaveKeyWithValue(discoveryv1.LabelServiceName, "web"))
		g.Expect(es.OwnerReferences).To(ConsistOf(HaveField("UID", svc.UID)))
		type ep struct {
			Addr               string
			Ready, Terminating bool
		}
		var got []ep
		for _, e := range es.Endpoints {
			got = append(got, ep{e.Addresses[0], *e.Conditions.Ready, *e.Conditions.Terminating})
		}
		g.Expect(got).To(Equal([]ep{
			{"127.244.0.1", true, false}, {"127.244.0.2", false, false}, {"127.244.0.3", false, true},
		}), "a pod being deleted takes no new traffic")
		g.Expect(es.Ports).To(HaveLen(2), "a named target port no container declares is left out")
		g.Expect(*es.Ports[0].Name).To(Equal("http"))
		g.Expect(*es.Ports[0].Port).To(Equal(int32(9898)))
		g.Expect(*es.Ports[1].Port).To(Equal(int32(9999)))
	})
	t.Run("a Service with no ready pod gets a slice with no endpoints, not none", func(t *testing.T) {
		g := NewWithT(t)
		es := desiredSlice(svc, nil)
		g.Expect(es.Endpoints).NotTo(BeNil())
		g.Expect(es.Endpoints).To(BeEmpty())
	})
}

func TestImageTag(t *testing.T) {
	g := NewWithT(t)
	for image, tag := range map[string]string{
		"app:v2": "v2", "reg:5000/app:v3-bad": "v3-bad", "reg:5000/app": "latest", "app": "latest",
	} {
		g.Expect(ImageTag(image)).To(Equal(tag), image)
	}
}
