package mesh

import (
	"context"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// draws returns n outcomes of a stand-in with behaviour b and seed.
func draws(b Behaviour, seed uint64, n int) []outcome {
	s := &standIn{workload: "podinfo", behaviour: b}
	s.rng = newStandInRand(seed, s.workload)
	out := make([]outcome, n)
	for i := range out {
		out[i] = s.draw("")
	}
	return out
}

func TestAStandInDrawsErrorsAndLatenciesReproduciblyFromItsSeed(t *testing.T) {
	g := NewWithT(t)
	b := Behaviour{ErrorFraction: 0.3, Latency: 40 * time.Millisecond, Jitter: 20 * time.Millisecond}
	first := draws(b, 3, 10000)

	g.Expect(draws(b, 3, 10000)).To(Equal(first), "the same seed draws the same answers")
	g.Expect(draws(b, 4, 10000)).NotTo(Equal(first), "another seed draws others")
	errs := 0
	for _, o := range first {
		g.Expect(o.latency).To(BeNumerically(">=", 40*time.Millisecond))
		g.Expect(o.latency).To(BeNumerically("<", 60*time.Millisecond))
		if o.code == http.StatusInternalServerError {
			errs++
		}
	}
	g.Expect(float64(errs) / 10000).To(BeNumerically("~", 0.3, 0.02))
}

func TestAStandInNeverOrAlwaysFailsAtTheExtremes(t *testing.T) {
	g := NewWithT(t)
	for _, o := range draws(Behaviour{}, 1, 1000) {
		g.Expect(o).To(Equal(outcome{code: http.StatusOK}))
	}
	for _, o := range draws(Behaviour{ErrorFraction: 1}, 1, 1000) {
		g.Expect(o.code).To(Equal(http.StatusInternalServerError))
	}
}

func TestWithoutARouteObjectAllTrafficGoesToTheDefaultHostAndIsCountedAsIstioWould(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	started := time.Now()
	m, err := Start(ctx, Options{
		Namespace: "shop", Rate: 400, Tick: 20 * time.Millisecond,
		Hosts: CanaryHosts("podinfo"), Default: "podinfo",
		StandIns: map[string]Behaviour{
			"podinfo-primary": {ErrorFraction: 0.2, Latency: 20 * time.Millisecond},
			"podinfo":         {},
		},
	})
	g.Expect(err).NotTo(HaveOccurred())
	time.Sleep(time.Second)
	g.Expect(m.Stop()).To(Succeed())
	elapsed := time.Since(started)

	sent := m.Sent("podinfo-primary")
	g.Expect(sent).To(BeNumerically(">", 0))
	g.Expect(float64(sent)).To(BeNumerically("<=", 400*elapsed.Seconds()), "never more than the rate")
	g.Expect(m.Sent("podinfo")).To(BeZero())
	g.Expect(m.Unrouted()).To(BeZero())
	g.Expect(float64(m.Failed("podinfo-primary")) / float64(sent)).To(BeNumerically("~", 0.2, 0.1))

	labels := func(code string) []string {
		return []string{"destination", "podinfo-primary", "shop", "podinfo.shop.svc.cluster.local", "podinfo", "shop", "http", code}
	}
	ok := testutil.ToFloat64(m.telemetry.requests.WithLabelValues(labels("200")...))
	failed := testutil.ToFloat64(m.telemetry.requests.WithLabelValues(labels("500")...))
	g.Expect(ok+failed).To(BeNumerically("==", sent), "every request sent is counted once, under the apex Service")
	g.Expect(failed).To(BeNumerically("==", m.Failed("podinfo-primary")))
	g.Expect(testutil.CollectAndCount(m.telemetry.requests)).To(Equal(2), "no other series")
}

func TestTheEmulatorStopsWhenItsContextEnds(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Start(ctx, Options{Namespace: "shop", Rate: 100, Default: "podinfo", StandIns: map[string]Behaviour{"podinfo": {}}})
	g.Expect(err).NotTo(HaveOccurred())
	url, metrics := m.StandInURL("podinfo"), "http://"+m.MetricsAddr()+"/metrics"
	resp, err := http.Get(metrics)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(resp.Body.Close()).To(Succeed())

	cancel()
	g.Eventually(m.Done()).WithTimeout(deadline.Scale(10 * time.Second)).Should(BeClosed())
	g.Expect(m.Stop()).To(Succeed())
	for _, u := range []string{url, metrics} {
		resp, err := http.Get(u)
		if err == nil {
			_ = resp.Body.Close()
		}
		g.Expect(err).To(HaveOccurred(), "%s no longer answers", u)
	}
}

func TestStartRefusesOptionsItCannotHonour(t *testing.T) {
	ok := map[string]Behaviour{"podinfo": {}}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"two route objects", Options{Namespace: "shop", VirtualService: "a", HTTPRoute: "b", StandIns: ok}, "at most one"},
		{"a route object without a client", Options{Namespace: "shop", VirtualService: "a", StandIns: ok}, "needs a Client"},
		{"a negative rate", Options{Namespace: "shop", Rate: -1, StandIns: ok}, "rate"},
		{"no stand-ins", Options{Namespace: "shop"}, "no stand-ins"},
		{"an error fraction above one", Options{Namespace: "shop", StandIns: map[string]Behaviour{"podinfo": {ErrorFraction: 2}}}, "outside 0-1"},
		{"a host served by no stand-in", Options{Namespace: "shop", StandIns: ok, Hosts: map[string]string{"podinfo": "other"}}, "no stand-in"},
		{"a default outside the hosts", Options{Namespace: "shop", StandIns: ok, Default: "elsewhere"}, "not in the hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Start(context.Background(), tc.opts)
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}
