package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/promserver"
)

// errorRate is the canary's share of 5xx answers, as a user would write it.
const errorRate = `sum(istio_requests_total{destination_workload="{{ .Canary }}",response_code=~"5.."})` +
	` / sum(istio_requests_total{destination_workload="{{ .Canary }}"})`

// standIn is a workload serving HTTP and counting its answers the way
// Istio's sidecar does, in a registry shared by every stand-in.
func standIn(t *testing.T, requests *prometheus.CounterVec, workload string, failEvery int) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	served := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		served++
		code := http.StatusOK
		if failEvery > 0 && served%failEvery == 0 {
			code = http.StatusInternalServerError
		}
		mu.Unlock()
		requests.WithLabelValues(workload, fmt.Sprint(code)).Inc()
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sendRequests sends n real requests to srv.
func sendRequests(t *testing.T, srv *httptest.Server, n int) {
	t.Helper()
	for range n {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatalf("request %s: %v", srv.URL, err)
		}
		_ = resp.Body.Close()
	}
}

// realPrometheus starts stand-ins for a primary (no errors) and a canary (one
// 500 in 20), sends 100 requests to each, and starts a real Prometheus
// scraping their counters. It returns once the counters are visible.
func realPrometheus(t *testing.T) *promserver.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "istio_requests_total", Help: "Requests served, as Istio counts them.",
	}, []string{"destination_workload", "response_code"})
	reg.MustRegister(requests)
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(metrics.Close)

	sendRequests(t, standIn(t, requests, "podinfo-primary", 0), 100)
	sendRequests(t, standIn(t, requests, "podinfo-canary", 20), 100)

	srv := promserver.Start(t, metrics.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.WaitForTargets(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := New(v1alpha1.MetricProvider{Address: srv.URL()}, analysis.Credentials{}, loopback)
	if err != nil {
		t.Fatal(err)
	}
	NewWithT(t).Eventually(func() (float64, error) {
		return p.Query(ctx, "sum(istio_requests_total)")
	}).WithContext(ctx).Should(Equal(200.0), "every request sent is scraped")
	return srv
}

// realEnv is a Provider reading a real Prometheus that scraped the
// stand-ins, with the template values of the release under test.
type realEnv struct {
	srv  *promserver.Server
	p    *Provider
	vars analysis.QueryVars

	mu        sync.Mutex
	latencies []time.Duration
}

// check runs one threshold check of query against rng.
func (e *realEnv) check(query string, rng v1alpha1.ThresholdRange) v1alpha1.MetricResult {
	metric := v1alpha1.Metric{Name: "m", Query: query, ThresholdRange: rng}
	return analysis.Check(context.Background(), e.p, metric, e.vars, time.Now())
}

// query renders tmpl and runs it.
func (e *realEnv) query(g Gomega, tmpl string) (float64, error) {
	q, err := analysis.RenderQuery(tmpl, e.vars)
	g.Expect(err).NotTo(HaveOccurred())
	return e.p.Query(context.Background(), q)
}

func TestProviderAgainstARealPrometheus(t *testing.T) {
	e := &realEnv{srv: realPrometheus(t), vars: analysis.QueryVars{Namespace: "shop", Name: "podinfo",
		Canary: "podinfo-canary", Primary: "podinfo-primary", Interval: 90 * time.Second}}
	observe := func(d time.Duration, _ error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.latencies = append(e.latencies, d)
	}
	var err error
	e.p, err = New(v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: e.srv.URL(),
		Timeout: &metav1.Duration{Duration: 5 * time.Second}}, analysis.Credentials{}, WithObserver(observe), loopback)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("checks pass and fail on the canary's real error rate", func(t *testing.T) { testRealChecks(t, e) })
	t.Run("missing series and non-numbers are no data", func(t *testing.T) { testRealNoData(t, e) })
	t.Run("answers that are not one number are provider errors", func(t *testing.T) { testRealProviderErrors(t, e) })
	t.Run("the judge reads every series of a query", func(t *testing.T) { testRealSeries(t, e) })
	t.Run("every query's latency reaches the observer", func(t *testing.T) {
		g := NewWithT(t)
		e.mu.Lock()
		defer e.mu.Unlock()
		g.Expect(len(e.latencies)).To(BeNumerically(">=", 10))
		for _, d := range e.latencies {
			g.Expect(d).To(BeNumerically(">", 0))
		}
	})
}

func testRealChecks(t *testing.T, e *realEnv) {
	t.Run("a check passes when the canary's error rate is inside the range", func(t *testing.T) {
		g := NewWithT(t)
		got := e.check(errorRate, v1alpha1.ThresholdRange{Max: ptr(0.1)})
		g.Expect(got.Outcome).To(Equal(v1alpha1.OutcomePassed), got.Message)
		g.Expect(got.Value).To(Equal("0.05"))
	})
	t.Run("a check fails when the error rate is outside the range, naming both", func(t *testing.T) {
		g := NewWithT(t)
		got := e.check(errorRate, v1alpha1.ThresholdRange{Max: ptr(0.01)})
		g.Expect(got.Outcome).To(Equal(v1alpha1.OutcomeFailed))
		g.Expect(got.Message).To(Equal("value 0.05 is above the range (-Inf, 0.01]"))
	})
	t.Run("a scalar result is read", func(t *testing.T) {
		g := NewWithT(t)
		v, err := e.query(g, `scalar(sum(istio_requests_total{destination_workload="{{ .Primary }}"}))`)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(v).To(Equal(100.0))
	})
	t.Run("a rate over the interval renders a duration Prometheus accepts", func(t *testing.T) {
		g := NewWithT(t)
		// rate() needs two samples: no data until the second scrape, a
		// provider error at once if [1m30s] were not valid PromQL.
		g.Eventually(func(g Gomega) {
			v, err := e.query(g, `sum(rate(istio_requests_total{destination_workload="{{ .Primary }}"}[{{ .Interval }}]))`)
			g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeFalse(), "%v", err)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(v).To(BeNumerically(">=", 0))
		}).WithTimeout(deadline.Scale(10 * time.Second)).Should(Succeed())
	})
}

func testRealNoData(t *testing.T, e *realEnv) {
	t.Run("a workload without series is no data, not a failure", func(t *testing.T) {
		g := NewWithT(t)
		ghost := `sum(istio_requests_total{destination_workload="ghost"})`
		_, err := e.query(g, ghost)
		g.Expect(errors.Is(err, analysis.ErrNoData)).To(BeTrue(), "%v", err)
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeFalse())
		got := e.check(ghost, v1alpha1.ThresholdRange{Max: ptr(1)})
		g.Expect(got.Outcome).To(Equal(v1alpha1.OutcomeNoData))
	})
	t.Run("NaN and infinite values are no data", func(t *testing.T) {
		g := NewWithT(t)
		for _, q := range []string{"0/0", "1/0", `sum(istio_requests_total{destination_workload="{{ .Canary }}"}) / 0`} {
			_, err := e.query(g, q)
			g.Expect(errors.Is(err, analysis.ErrNoData)).To(BeTrue(), "%s: %v", q, err)
		}
	})
}

func testRealProviderErrors(t *testing.T, e *realEnv) {
	t.Run("a bad query is a provider error that says the server refused it", func(t *testing.T) {
		g := NewWithT(t)
		_, err := e.query(g, `sum(istio_requests_total{`)
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
		g.Expect(errors.Is(err, analysis.ErrNoData)).To(BeFalse())
		g.Expect(err).To(MatchError(ContainSubstring("refused by " + e.srv.URL() + " as invalid")))
	})
	t.Run("a result of several series is a provider error that suggests sum()", func(t *testing.T) {
		g := NewWithT(t)
		_, err := e.query(g, `istio_requests_total{destination_workload="{{ .Canary }}"}`)
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
		g.Expect(err).To(MatchError(And(ContainSubstring("returned 2 series"), ContainSubstring("sum()"),
			ContainSubstring(`response_code="500"`))))
	})
	t.Run("a range vector is a provider error", func(t *testing.T) {
		g := NewWithT(t)
		_, err := e.query(g, `sum(istio_requests_total)[1m:]`)
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
		g.Expect(err).To(MatchError(ContainSubstring("returned a matrix")))
	})
}

func testRealSeries(t *testing.T, e *realEnv) {
	t.Run("a vector comes back series by series, keyed by label set", func(t *testing.T) {
		g := NewWithT(t)
		got, err := e.p.QuerySeries(context.Background(),
			`sum by (response_code) (istio_requests_total{destination_workload="podinfo-canary"})`)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(map[string]float64{`{response_code="200"}`: 95, `{response_code="500"}`: 5}))
	})
	t.Run("a query that matches nothing is an empty reading, not an error", func(t *testing.T) {
		g := NewWithT(t)
		got, err := e.p.QuerySeries(context.Background(), `istio_requests_total{destination_workload="ghost"}`)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(BeEmpty())
	})
	t.Run("a bad query is a provider error", func(t *testing.T) {
		g := NewWithT(t)
		_, err := e.p.QuerySeries(context.Background(), `sum(istio_requests_total{`)
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	})
}

func ptr(v float64) *float64 { return &v }
