package analysis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
)

// gate is a Provider whose queries all wait until release is closed (or
// their context ends), recording how many are in flight at once.
type gate struct {
	release  chan struct{}
	mu       sync.Mutex
	inFlight int
	most     int
	reached  chan struct{} // closed once want queries are in flight together
	once     sync.Once
	want     int
}

func newGate(want int) *gate {
	return &gate{release: make(chan struct{}), reached: make(chan struct{}), want: want}
}

func (g *gate) Query(ctx context.Context, _ string) (float64, error) {
	g.mu.Lock()
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	if g.inFlight == g.want {
		g.once.Do(func() { close(g.reached) })
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
		return 0, nil
	case <-ctx.Done():
		return 0, analysis.ProviderErrorf("timed out: %w", ctx.Err())
	}
}

func (g *gate) QuerySeries(ctx context.Context, q string) (map[string]float64, error) {
	v, err := g.Query(ctx, q)
	return map[string]float64{`{pod="a"}`: v}, err
}

func gatedRunner(g *gate) *analysis.Runner {
	return &analysis.Runner{Providers: analysis.Registry{
		v1alpha1.ProviderPrometheus: func(v1alpha1.MetricProvider, analysis.Credentials) (analysis.Provider, error) { return g, nil },
	}}
}

// manyMetrics is an analysis with n metrics and a judge with slow requests:
// n + 6 queries.
func manyMetrics(n int) *v1alpha1.Analysis {
	a := spec()
	a.Metrics = nil
	for i := range n {
		a.Metrics = append(a.Metrics, v1alpha1.Metric{Name: fmt.Sprintf("m%d", i), Query: fmt.Sprintf("q%d", i),
			ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(1.0)}})
	}
	a.Judge = &v1alpha1.Judge{Requests: `r{w="{{ .Workload }}"}`, Errors: `e{w="{{ .Workload }}"}`,
		SlowRequests: `s{w="{{ .Workload }}"}`}
	return a
}

func TestACheckRunsItsQueriesInParallelUpToTheBound(t *testing.T) {
	g := NewWithT(t)
	queries := newGate(analysis.MaxParallelQueries)
	done := make(chan analysis.CheckResult)
	go func() {
		done <- gatedRunner(queries).Run(context.Background(), manyMetrics(8), workloads, nil, now)
	}()
	g.Eventually(queries.reached, 10*time.Second).Should(BeClosed(),
		"%d queries of one check in flight together", analysis.MaxParallelQueries)
	g.Consistently(func() int {
		queries.mu.Lock()
		defer queries.mu.Unlock()
		return queries.most
	}, 200*time.Millisecond).Should(Equal(analysis.MaxParallelQueries), "never more than the bound")
	close(queries.release)
	var out analysis.CheckResult
	g.Eventually(done, 10*time.Second).Should(Receive(&out))
	g.Expect(out.Results).To(HaveLen(9), "8 metrics and the judge")
	for i := range 8 {
		g.Expect(out.Results[i].Name).To(Equal(fmt.Sprintf("m%d", i)), "results in the spec's order")
		g.Expect(out.Results[i].Outcome).To(Equal(v1alpha1.OutcomePassed))
	}
	g.Expect(out.Results[8].Name).To(Equal(analysis.ResultJudge))
	g.Expect(out.Judge).NotTo(BeNil())
}

func TestACheckWhoseQueriesHangEndsWithTheCallersContextAndReportsErrors(t *testing.T) {
	g := NewWithT(t)
	queries := newGate(-1) // never released
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	out := gatedRunner(queries).Run(ctx, manyMetrics(8), workloads, nil, now)
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second), "queries waiting for a slot give up too")
	g.Expect(out.Results).To(HaveLen(9))
	for _, r := range out.Results {
		g.Expect(r.Outcome).To(Equal(v1alpha1.OutcomeError), "%s: %s", r.Name, r.Message)
	}
}
