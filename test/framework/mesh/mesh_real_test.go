package mesh

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/promserver"
)

// control is the control plane the tests on a real API server share,
// started by the first of them and stopped by TestMain.
var control struct {
	once sync.Once
	env  *apiserver.Env
	err  error
}

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	if control.env != nil {
		if err := control.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop the control plane: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedAPIServer returns the API server the tests share, with a new
// namespace.
func sharedAPIServer(t *testing.T, namespace string) *apiserver.Env {
	t.Helper()
	control.once.Do(func() { control.env, control.err = apiserver.Start() })
	if control.err != nil {
		t.Fatalf("start the control plane: %v", control.err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := control.env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return control.env
}

// startMesh starts an emulator and stops it when the test ends.
func startMesh(ctx context.Context, t *testing.T, opts Options) *Mesh {
	t.Helper()
	m, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start the mesh emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("stop the mesh emulator: %v", err)
		}
	})
	return m
}

// counts is what the emulator had sent to the primary and the canary.
type counts struct{ primary, canary int64 }

func snapshot(m *Mesh) counts {
	return counts{primary: m.Sent("podinfo-primary"), canary: m.Sent("podinfo")}
}

// during returns what the emulator sends to each workload in d.
func during(m *Mesh, d time.Duration) counts {
	before := snapshot(m)
	time.Sleep(d)
	after := snapshot(m)
	return counts{primary: after.primary - before.primary, canary: after.canary - before.canary}
}

// canaryVirtualService routes the apex to the primary and canary Services
// as Sluice's generated VirtualService does.
func canaryVirtualService(primary, canary int32) *networkingv1.VirtualService {
	return &networkingv1.VirtualService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "podinfo"},
		Spec: istioapi.VirtualService{
			Hosts: []string{"podinfo"},
			Http: []*istioapi.HTTPRoute{{Name: "sluice", Route: []*istioapi.HTTPRouteDestination{
				{Destination: &istioapi.Destination{Host: "podinfo-primary"}, Weight: primary},
				{Destination: &istioapi.Destination{Host: "podinfo-canary.shop.svc.cluster.local"}, Weight: canary},
			}}},
		},
	}
}

// query runs an instant query that returns one sample and returns its value.
func query(g Gomega, prom *promserver.Server, q string) float64 {
	resp, err := http.Get(prom.URL() + "/api/v1/query?query=" + url.QueryEscape(q))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	g.Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
	g.Expect(body.Data.Result).To(HaveLen(1), "query %s", q)
	v, err := strconv.ParseFloat(body.Data.Result[0].Value[1].(string), 64)
	g.Expect(err).NotTo(HaveOccurred())
	return v
}

// expectIstioSeries checks what Prometheus scraped after the scenario: the
// canary's errors and both workloads' latencies, as Istio's series show them.
func expectIstioSeries(t *testing.T, g Gomega, prom *promserver.Server) {
	t.Helper()
	errorRatio := `sum(rate(istio_requests_total{destination_workload="podinfo",response_code=~"5.."}[10s]))` +
		` / sum(rate(istio_requests_total{destination_workload="podinfo"}[10s]))`
	g.Eventually(func(g Gomega) {
		ratio := query(g, prom, errorRatio)
		t.Logf("Prometheus: canary error ratio %.4f", ratio)
		g.Expect(ratio).To(BeNumerically("~", 0.5, 0.05))
	}).WithTimeout(deadline.Scale(15 * time.Second)).WithPolling(time.Second).Should(Succeed())
	latency := func(q float64, w string) string {
		return `histogram_quantile(` + strconv.FormatFloat(q, 'f', -1, 64) + `, sum by (le) (rate(` +
			`istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload="` + w + `"}[1m])))`
	}
	primaryP99, canaryP50 := query(g, prom, latency(0.99, "podinfo-primary")), query(g, prom, latency(0.5, "podinfo"))
	t.Logf("Prometheus: primary p99 %.1f ms, canary p50 %.1f ms", primaryP99, canaryP50)
	g.Expect(primaryP99).To(And(BeNumerically(">", 10), BeNumerically("<=", 25)), "the primary answers within 12-22 ms")
	g.Expect(canaryP50).To(And(BeNumerically(">", 250), BeNumerically("<=", 500)), "the canary is slower")
	g.Expect(query(g, prom, `sum(istio_requests_total{destination_workload="podinfo-primary",response_code="500"}) or vector(0)`)).
		To(BeZero(), "the healthy primary has no errors")
	g.Expect(query(g, prom, `count(count by (destination_service_name) (istio_requests_total{destination_workload="podinfo-primary"}))`)).
		To(BeNumerically("==", 2), "the primary served the apex Service, then the primary Service")
}

func TestTheEmulatorSplitsRealTrafficByTheVirtualServiceAndPrometheusSeesIstioSeries(t *testing.T) {
	g := NewWithT(t)
	env := sharedAPIServer(t, "shop")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := startMesh(ctx, t, Options{
		Client: env.Client, Namespace: "shop", VirtualService: "podinfo", Rate: 200,
		Hosts: CanaryHosts("podinfo"), Default: "podinfo",
		StandIns: map[string]Behaviour{
			"podinfo-primary": {Latency: 12 * time.Millisecond, Jitter: 10 * time.Millisecond},
			"podinfo":         {ErrorFraction: 0.5, Latency: 300 * time.Millisecond, Jitter: 150 * time.Millisecond},
		},
	})
	prom := promserver.Start(t, m.MetricsAddr())
	g.Expect(prom.WaitForTargets(ctx)).To(Succeed(), "Prometheus sees the primary's traffic from the start")

	// Without the VirtualService, the apex Service sends everything to the primary.
	got := during(m, time.Second)
	t.Logf("no VirtualService, 1 s: %+v", got)
	g.Expect(got.primary).To(BeNumerically(">", 0))
	g.Expect(got.canary).To(BeZero())
	g.Expect(m.ReadError()).NotTo(HaveOccurred())

	g.Expect(env.Client.Create(ctx, canaryVirtualService(90, 10))).To(Succeed())
	g.Eventually(func() int64 { return m.Sent("podinfo") }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))
	got = during(m, 3*time.Second)
	share := float64(got.canary) / float64(got.canary+got.primary)
	t.Logf("90/10, 3 s: %+v, canary share %.4f", got, share)
	g.Expect(got.primary+got.canary).To(BeNumerically(">=", 100), "enough requests to judge the split")
	g.Expect(10*got.canary).To(BeNumerically("~", got.primary+got.canary, 20), "within 2 requests of 10%")

	vs := &networkingv1.VirtualService{}
	g.Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: "shop", Name: "podinfo"}, vs)).To(Succeed())
	vs.Spec.Http[0].Route[0].Weight, vs.Spec.Http[0].Route[1].Weight = 0, 100
	g.Expect(env.Client.Update(ctx, vs)).To(Succeed())
	g.Eventually(func() int64 { return during(m, 300*time.Millisecond).primary }).
		WithTimeout(deadline.Scale(5 * time.Second)).Should(BeZero())
	got = during(m, 2*time.Second)
	t.Logf("0/100, 2 s: %+v", got)
	g.Expect(got.primary).To(BeZero())
	g.Expect(got.canary).To(BeNumerically(">", 0))
	g.Expect(m.Unrouted()).To(BeZero())

	expectIstioSeries(t, g, prom)
}

func TestTheEmulatorSplitsRealTrafficByAnHTTPRoute(t *testing.T) {
	g := NewWithT(t)
	env := sharedAPIServer(t, "gateway")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	port := gatewayv1.PortNumber(9898)
	backend := func(name string, weight int32) gatewayv1.HTTPBackendRef {
		b := gatewayv1.HTTPBackendRef{}
		b.Name, b.Port, b.Weight = gatewayv1.ObjectName(name), &port, &weight
		return b
	}
	hr := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "gateway", Name: "podinfo"},
		Spec: gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{
			BackendRefs: []gatewayv1.HTTPBackendRef{backend("podinfo-primary", 1), backend("podinfo-canary", 3)},
		}}},
	}
	g.Expect(env.Client.Create(ctx, hr)).To(Succeed())
	m := startMesh(ctx, t, Options{
		Client: env.Client, Namespace: "gateway", HTTPRoute: "podinfo", Rate: 200,
		Hosts: CanaryHosts("podinfo"), Default: "podinfo",
		StandIns: map[string]Behaviour{"podinfo-primary": {}, "podinfo": {}},
	})

	g.Eventually(func() int64 { return m.Sent("podinfo") }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 0))
	got := during(m, 2*time.Second)
	share := float64(got.canary) / float64(got.canary+got.primary)
	t.Logf("HTTPRoute 1:3, 2 s: %+v, canary share %.4f", got, share)
	g.Expect(got.primary+got.canary).To(BeNumerically(">=", 100), "enough requests to judge the split")
	g.Expect(4*got.canary).To(BeNumerically("~", 3*(got.primary+got.canary), 8), "within 2 requests of 75%")

	g.Expect(env.Client.Delete(ctx, hr)).To(Succeed())
	g.Eventually(func() int64 { return during(m, 300*time.Millisecond).canary }).
		WithTimeout(deadline.Scale(5*time.Second)).Should(BeZero(), "without the route, all goes to the apex, served by the primary")
	g.Expect(m.ReadError()).NotTo(HaveOccurred())
}
