package traefik_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/mesh"
	"github.com/sluice-dev/sluice/test/framework/podnet"
	"github.com/sluice-dev/sluice/test/framework/traefik"
)

func TestBinaryMissing(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("SLUICE_TRAEFIK", "/nonexistent/traefik")
	_, err := traefik.Binary()
	g.Expect(err).To(MatchError(ContainSubstring("make tools")))
}

// TestTraefik routes real requests through Traefik to pods served on their
// loopback addresses, by an HTTPRoute's weights, and checks that a
// Service's readiness gates its share.
func TestTraefik(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctrllog.SetLogger(logr.Discard())
	crds, err := cluster.GatewayAPICRDs()
	g.Expect(err).NotTo(HaveOccurred())
	c, err := cluster.Start(ctx, cluster.Options{CRDs: crds, PodCIDR: cluster.RandomLoopbackPodCIDR(), Log: testLog{t}})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(c.Stop()).To(Succeed()) }()
	tr, err := traefik.Start(ctx, c, traefik.Options{Log: testLog{t}})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(tr.Stop()).To(Succeed()) }()

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(gatewayv1.Install(scheme)).To(Succeed())
	k, err := client.New(c.Config(), client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})).To(Succeed())
	n, err := podnet.Start(ctx, c.Config(), podnet.Options{Namespace: "shop", Images: map[string]mesh.Behaviour{
		"v1": {}, "v2-bad": {ErrorFraction: 1},
	}})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(n.Stop()).To(Succeed()) }()
	g.Eventually(func() error {
		return k.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "default"}, &corev1.ServiceAccount{})
	}).
		WithTimeout(30 * time.Second).Should(Succeed())
	for _, app := range []struct{ name, image string }{{"blue", "app:v1"}, {"green", "app:v2-bad"}} {
		g.Expect(k.Create(ctx, deployment(app.name, app.image))).To(Succeed())
		g.Expect(k.Create(ctx, service(app.name))).To(Succeed())
	}
	gwNS, gwName := tr.Gateway()
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "shop"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
				Namespace: ptr.To(gatewayv1.Namespace(gwNS)), Name: gatewayv1.ObjectName(gwName),
			}}},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{backend("blue", 3), backend("green", 1)}}},
		},
	}
	g.Expect(k.Create(ctx, route)).To(Succeed())

	t.Log("the route's weights split real requests between the pods of both Services")
	g.Eventually(func() map[string]int { return split(ctx, tr.URL(), 40) }).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).
		Should(Equal(map[string]int{"v1 200": 30, "v2-bad 500": 10}), "3:1 weights, Traefik's weighted round robin")

	t.Log("Traefik counts the requests by backend Service, as the traefik preset reads them")
	g.Expect(get(ctx, "http://"+tr.MetricsAddr()+"/metrics")).To(And(
		ContainSubstring(`traefik_service_requests_total{code="200",method="GET",protocol="http",service="shop-blue-http-80@kubernetesgateway"}`),
		ContainSubstring(`traefik_service_requests_total{code="500",method="GET",protocol="http",service="shop-green-http-80@kubernetesgateway"}`),
	))

	t.Log("a Service with no ready pod gets no traffic: its share fails, as in a cluster")
	var green appsv1.Deployment
	g.Expect(k.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "green"}, &green)).To(Succeed())
	green.Spec.Replicas = ptr.To[int32](0)
	g.Expect(k.Update(ctx, &green)).To(Succeed())
	g.Eventually(func() map[string]int { return split(ctx, tr.URL(), 40) }).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).
		Should(Equal(map[string]int{"v1 200": 30, "- 503": 10}), "Traefik answers 503 for a backend with no ready endpoint")
	g.Expect(n.Err()).NotTo(HaveOccurred())
}

// split sends n requests through Traefik and counts the answers by image
// tag and status code.
func split(ctx context.Context, url string, n int) map[string]int {
	got := map[string]int{}
	for range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got["error"]++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		tag := resp.Header.Get(podnet.HeaderImage)
		if tag == "" {
			tag = "-"
		}
		got[fmt.Sprintf("%s %d", tag, resp.StatusCode)]++
	}
	return got
}

func get(ctx context.Context, url string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func backend(svc string, weight int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(svc), Port: ptr.To[gatewayv1.PortNumber](80)},
		Weight:                 ptr.To(weight),
	}}
}

func deployment(name, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
}

func service(name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
}

// testLog writes progress lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
