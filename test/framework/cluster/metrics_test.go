package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestMetricsAPIAnswers(t *testing.T) {
	pod := func(name string, phase corev1.PodPhase, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "sidecar"}}},
			Status:     corev1.PodStatus{Phase: phase},
		}
	}
	web := map[string]string{"app": "web"}
	m := &MetricsAPI{
		clientset: fake.NewClientset(pod("web-1", corev1.PodRunning, web), pod("web-2", corev1.PodPending, web),
			pod("db-1", corev1.PodRunning, map[string]string{"app": "db"})),
		usage: func(_ string, pods []corev1.Pod) []corev1.ResourceList {
			out := make([]corev1.ResourceList, len(pods))
			for i := range pods {
				out[i] = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("70m")}
			}
			return out
		},
	}
	proxy := &x509.Certificate{Subject: pkix.Name{CommonName: FrontProxyUser}}
	get := func(path string, cert *x509.Certificate, user string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.TLS = &tls.ConnectionState{}
		if cert != nil {
			r.TLS.PeerCertificates = []*x509.Certificate{cert}
		}
		if user != "" {
			r.Header.Set("X-Remote-User", user)
		}
		w := httptest.NewRecorder()
		m.ServeHTTP(w, r)
		return w
	}
	const pods = "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods?labelSelector=app%3Dweb"

	t.Run("a request without the front proxy's certificate is refused", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(get(pods, nil, "admin").Code).To(Equal(http.StatusUnauthorized))
		other := &x509.Certificate{Subject: pkix.Name{CommonName: "someone"}}
		g.Expect(get(pods, other, "admin").Code).To(Equal(http.StatusUnauthorized))
	})
	t.Run("the front proxy must say on whose behalf it asks", func(t *testing.T) {
		NewWithT(t).Expect(get(pods, proxy, "").Code).To(Equal(http.StatusUnauthorized))
	})
	t.Run("the group version lists pod metrics", func(t *testing.T) {
		g := NewWithT(t)
		w := get("/apis/metrics.k8s.io/v1beta1", proxy, "admin")
		g.Expect(w.Code).To(Equal(http.StatusOK))
		var list metav1.APIResourceList
		g.Expect(json.Unmarshal(w.Body.Bytes(), &list)).To(Succeed())
		g.Expect(list.GroupVersion).To(Equal("metrics.k8s.io/v1beta1"))
		g.Expect(list.APIResources).To(ConsistOf(HaveField("Name", "pods")))
	})
	t.Run("pod metrics cover the running pods the selector matches, usage on the first container", func(t *testing.T) {
		g := NewWithT(t)
		w := get(pods, proxy, "admin")
		g.Expect(w.Code).To(Equal(http.StatusOK))
		var list podMetricsList
		g.Expect(json.Unmarshal(w.Body.Bytes(), &list)).To(Succeed())
		g.Expect(list.Kind).To(Equal("PodMetricsList"))
		g.Expect(list.Items).To(HaveLen(1))
		item := list.Items[0]
		g.Expect(item.Name).To(Equal("web-1"))
		g.Expect(item.Window.Duration).To(Equal(metricsWindow))
		g.Expect(item.Containers).To(HaveLen(2))
		g.Expect(item.Containers[0].Usage.Cpu().MilliValue()).To(BeEquivalentTo(70))
		g.Expect(item.Containers[1].Usage.Cpu().MilliValue()).To(BeZero())
	})
	t.Run("other paths and groups are not found", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(get("/apis", proxy, "admin").Code).To(Equal(http.StatusNotFound), "the API server falls back")
		g.Expect(get("/apis/metrics.k8s.io/v1beta1/nodes", proxy, "admin").Code).To(Equal(http.StatusNotFound))
	})
}
