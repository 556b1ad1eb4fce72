package mesh

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1alpha3"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// scrape reads the emulator's metrics endpoint.
func scrape(g Gomega, m *Mesh) string {
	resp, err := http.Get("http://" + m.MetricsAddr() + "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return string(body)
}

// series finds the istio_requests_total line with every label given.
func series(metrics string, labels ...string) string {
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, RequestsTotal+"{") {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(line, l)
		}
		if all {
			return line
		}
	}
	return ""
}

func TestARouteToAServiceNobodyServesFailsWith503CountedAsDestinationMissing(t *testing.T) {
	g := NewWithT(t)
	m, _ := startStubbed(t, &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		istioRoute("sluice", "podinfo-primary", 50, "podinfo-gone", 50),
	}})
	g.Eventually(func() int64 { return m.Failures(CauseDestinationMissing) }).WithTimeout(deadline.Scale(5 * time.Second)).
		Should(BeNumerically(">=", 50))
	g.Expect(m.Failures(CauseNoRoute)).To(BeZero())
	g.Expect(m.Failures(CauseNoEndpoint)).To(BeZero())
	g.Expect(m.OutageFailures()).To(BeNumerically(">=", m.Failures(CauseDestinationMissing)))

	line := series(scrape(g, m), `reporter="source"`, `response_code="503"`,
		`destination_service_name="podinfo-gone"`, `destination_workload="unknown"`)
	g.Expect(line).NotTo(BeEmpty(), "the failures are exported like any response, labelled as Istio's source reporter would")
}

func TestAVirtualServiceWithNoHTTPRouteFailsWith404CountedAsNoRoute(t *testing.T) {
	g := NewWithT(t)
	m, _ := startStubbed(t, &istioapi.VirtualService{})
	g.Eventually(func() int64 { return m.Failures(CauseNoRoute) }).WithTimeout(deadline.Scale(5 * time.Second)).
		Should(BeNumerically(">=", 50))
	g.Expect(m.Sent("podinfo-primary")).To(BeZero())
	g.Expect(series(scrape(g, m), `response_code="404"`, `reporter="source"`)).NotTo(BeEmpty())
}

func TestServedTrafficCountsNoFailure(t *testing.T) {
	g := NewWithT(t)
	m, _ := startStubbed(t, &istioapi.VirtualService{Http: []*istioapi.HTTPRoute{
		istioRoute("sluice", "podinfo-primary", 90, "podinfo-canary", 10),
	}})
	g.Eventually(func() int64 { return m.Sent("podinfo") }).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeNumerically(">", 10))
	g.Expect(m.Stop()).To(Succeed())
	for _, c := range Causes {
		g.Expect(m.Failures(c)).To(BeZero(), "cause %s", c)
	}
	g.Expect(m.Unrouted()).To(BeZero())
}
