package mesh

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"podinfo:v2":                   "v2",
		"example.org:5000/shop/web:v3": "v3",
		"example.org:5000/shop/web":    "latest",
		"web":                          "latest",
		"web:v3-bad@sha256:0123":       "v3-bad",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestOwningDeploymentIsTheReplicaSetNameLessTheHash(t *testing.T) {
	pod := func(owner, hash string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"pod-template-hash": hash}}}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner}}
		}
		return p
	}
	for _, c := range []struct {
		pod  *corev1.Pod
		want string
	}{
		{pod("web-blue-5d9c7f", "5d9c7f"), "web-blue"},
		{pod("web-5d9c7f", "other"), ""},
		{pod("", "5d9c7f"), ""},
		{pod("web-5d9c7f", ""), ""},
	} {
		if got := owningDeployment(c.pod); got != c.want {
			t.Errorf("owner %v: got %q, want %q", c.pod.OwnerReferences, got, c.want)
		}
	}
}

// createPods creates n ready pods of a Deployment's ReplicaSet, as the
// Deployment controller and a kubelet would leave them.
func createPods(ctx context.Context, g Gomega, c client.Client, ns, deployment, hash, image string, labels map[string]string, n int) {
	for i := range n {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: deployment + "-" + hash + "-" + string(rune('a'+i)),
				Labels:          map[string]string{"pod-template-hash": hash},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: deployment + "-" + hash, UID: types.UID(deployment + hash)}},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
		}
		for k, v := range labels {
			p.Labels[k] = v
		}
		g.Expect(c.Create(ctx, p)).To(Succeed())
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		g.Expect(c.Status().Update(ctx, p)).To(Succeed())
	}
}

func TestWithEndpointsTrafficFollowsTheServiceSelectorAndAnswersAsTheImage(t *testing.T) {
	g := NewWithT(t)
	env := sharedAPIServer(t, "colors")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := env.Client
	g.Expect(c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "colors", Name: "default"}})).To(Succeed())
	createPods(ctx, g, c, "colors", "web-blue", "b1", "shop/web:v1", map[string]string{"app": "web", "color": "blue"}, 2)
	createPods(ctx, g, c, "colors", "web-green", "g3", "shop/web:v3-bad", map[string]string{"app": "web", "color": "green"}, 3)
	live := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "colors", Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web", "color": "blue"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	g.Expect(c.Create(ctx, live)).To(Succeed())
	m := startMesh(ctx, t, Options{
		Client: c, Namespace: "colors", Rate: 200, Default: "web", Endpoints: true,
		StandIns: map[string]Behaviour{"web-blue": {}, "web-green": {}},
		Images:   map[string]Behaviour{"v3-bad": {ErrorFraction: 1}},
	})
	sent := func(w string, d time.Duration) (int64, int64) {
		s0, f0 := m.Sent(w), m.Failed(w)
		time.Sleep(d)
		return m.Sent(w) - s0, m.Failed(w) - f0
	}

	g.Eventually(func() int64 { return m.Sent("web-blue") }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))
	g.Expect(m.Sent("web-green")).To(BeZero(), "the live Service selects blue")
	g.Expect(m.Failed("web-blue")).To(BeZero(), "blue runs v1, which answers as its stand-in: healthy")

	// The selector flips to green in one write; traffic follows it.
	live.Spec.Selector["color"] = "green"
	g.Expect(c.Update(ctx, live)).To(Succeed())
	g.Eventually(func() int64 { n, _ := sent("web-blue", 300*time.Millisecond); return n }).
		WithTimeout(deadline.Scale(5 * time.Second)).Should(BeZero())
	n, failed := sent("web-green", time.Second)
	t.Logf("green, 1 s: %d sent, %d failed", n, failed)
	g.Expect(n).To(BeNumerically(">", 100))
	g.Expect(failed).To(Equal(n), "green runs v3-bad, which fails every request")
	g.Expect(m.SentToImage("v3-bad")).To(BeNumerically(">=", n), "counted by the image that served it")
	g.Expect(m.SentToImage("v1")).To(BeNumerically(">", 0))
	probe, err := m.Probe(ctx, "web", 20)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(probe).To(Equal(ProbeResult{Sent: 20, Failed: 20, Workloads: map[string]int{"web-green": 20}}))
	// A Service named as a stand-in resolves through its pods too, so they
	// answer as their image does.
	greenSvc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "colors", Name: "web-green"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web", "color": "green"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	g.Expect(c.Create(ctx, greenSvc)).To(Succeed())
	probe, err = m.Probe(ctx, "web-green", 10)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(probe.Failed).To(Equal(10), "web-green's pods run v3-bad")
	_, err = m.Probe(ctx, "web-preview", 5)
	g.Expect(err).To(MatchError(ContainSubstring("no ready workload serves it")))

	// Selecting both colors shares the traffic by ready pods: 2 blue, 3 green.
	delete(live.Spec.Selector, "color")
	g.Expect(c.Update(ctx, live)).To(Succeed())
	g.Eventually(func() int64 { n, _ := sent("web-blue", 300*time.Millisecond); return n }).
		WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))
	b0, g0 := m.Sent("web-blue"), m.Sent("web-green")
	time.Sleep(2 * time.Second)
	blue, green := m.Sent("web-blue")-b0, m.Sent("web-green")-g0
	t.Logf("both, 2 s: blue %d, green %d", blue, green)
	g.Expect(5*blue).To(BeNumerically("~", 2*(blue+green), 15), "blue gets 2 requests in 5, within 3")

	// A Service that selects no ready pod fails its traffic with 503, counted
	// as no-endpoint.
	live.Spec.Selector = map[string]string{"app": "web", "color": "none"}
	g.Expect(c.Update(ctx, live)).To(Succeed())
	e0 := m.Failures(CauseNoEndpoint)
	g.Eventually(func() int64 { return m.Failures(CauseNoEndpoint) - e0 }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))

	// A Service that does not exist fails its traffic too, counted as
	// destination-missing.
	g.Expect(c.Delete(ctx, live)).To(Succeed())
	u0, d0 := m.Unrouted(), m.Failures(CauseDestinationMissing)
	g.Eventually(func() int64 { return m.Failures(CauseDestinationMissing) - d0 }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))
	g.Expect(m.Unrouted() - u0).To(BeNumerically(">=", m.Failures(CauseDestinationMissing)-d0))
	g.Expect(m.ReadError()).NotTo(HaveOccurred(), "a missing Service is no read error")
}
