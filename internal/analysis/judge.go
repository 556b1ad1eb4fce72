package analysis

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis/sequential"
)

// Names of the judge's counters in status.
const (
	// JudgeCounterErrors names the evidence on failed requests.
	JudgeCounterErrors = "errors"
	// JudgeCounterSlowRequests names the evidence on requests slower than the
	// latency bound of the judge's slowRequests query.
	JudgeCounterSlowRequests = "slowRequests"
)

// Defaults the judge applies when the spec leaves a field at its zero value,
// the same as the API server's defaults.
const (
	// DefaultJudgeAlpha is the judge's alpha when the spec gives none.
	DefaultJudgeAlpha = 0.05
	// DefaultJudgeTolerance is the judge's ψ₀ when the spec gives none.
	DefaultJudgeTolerance = 1.0
)

// JudgeCounters are the cumulative counters of one version at one reading.
type JudgeCounters struct {
	// Requests served.
	Requests int64
	// Errors among them.
	Errors int64
	// SlowRequests among them, slower than the latency bound. Read only when
	// the judge has a slowRequests query.
	SlowRequests int64
}

// JudgeReading is one read of both versions' cumulative counters, taken at
// the same time.
type JudgeReading struct {
	// Canary is the new version's counters.
	Canary JudgeCounters
	// Primary is the stable version's counters.
	Primary JudgeCounters
}

// judgeCounter is one counter the judge tests, with its own test.
type judgeCounter struct {
	name string
	noun string
	test *sequential.Test
	pick func(JudgeCounters) sequential.Counts
}

// EvaluateJudge adds one reading to the judge's evidence and returns its new
// status. It is pure: prev is not changed, and everything the next call needs
// is in the returned status, so an operator restarted from status carries on
// exactly. A nil prev starts a fresh judge; the first reading is a baseline.
//
// Alpha is split evenly between the counters (errors, and slow requests when
// the spec has a query for them), so a healthy canary is rolled back with
// probability at most alpha overall. Rollback is final: once decided, later
// readings leave the status unchanged. Promote is reported only with
// promoteOnEvidence, and only while every counter has enough evidence that the
// canary is within tolerance and none calls for a rollback.
//
// The caller starts from a nil status for each new revision, and whenever the
// judge's spec (tolerance, mode, queries) changes: stored evidence is only
// meaningful for the spec it was gathered under.
func EvaluateJudge(spec v1alpha1.Judge, prev *v1alpha1.JudgeStatus, r JudgeReading) (v1alpha1.JudgeStatus, error) {
	counters, alpha, err := judgeCounters(spec)
	if err != nil {
		return v1alpha1.JudgeStatus{}, err
	}
	threshold := float64(len(counters)) / alpha
	if prev != nil && prev.Decision == v1alpha1.JudgeRollback {
		return *prev.DeepCopy(), nil
	}
	out := v1alpha1.JudgeStatus{Threshold: threshold, Metrics: make([]v1alpha1.JudgeMetricStatus, 0, len(counters))}
	rollback, promote := false, spec.PromoteOnEvidence
	for _, c := range counters {
		st := stateFromStatus(previousMetric(prev, c.name))
		st, err = c.test.Observe(st, sequential.Reading{Canary: c.pick(r.Canary), Primary: c.pick(r.Primary)})
		if err != nil {
			return v1alpha1.JudgeStatus{}, fmt.Errorf("judge counter %s: %w", c.name, err)
		}
		m := statusFromState(c.name, c.test, st)
		rollback = rollback || m.RollbackEvidence >= threshold
		promote = promote && m.Observations > 0 && m.PromotionEvidence >= threshold
		out.Metrics = append(out.Metrics, m)
	}
	switch {
	case rollback:
		out.Decision = v1alpha1.JudgeRollback
	case promote:
		out.Decision = v1alpha1.JudgePromote
	default:
		out.Decision = v1alpha1.JudgeContinue
	}
	out.Summary = judgeSummary(counters, out.Metrics, threshold, spec.PromoteOnEvidence)
	return out, nil
}

// judgeCounters builds one test per counter the spec asks for, with alpha
// split between them, and returns the overall alpha.
func judgeCounters(spec v1alpha1.Judge) ([]judgeCounter, float64, error) {
	alpha, tolerance := spec.Alpha, spec.Tolerance
	if alpha == 0 {
		alpha = DefaultJudgeAlpha
	}
	if tolerance == 0 {
		tolerance = DefaultJudgeTolerance
	}
	var mode sequential.Mode
	switch spec.Mode {
	case "", v1alpha1.JudgePerRequest:
		mode = sequential.PerRequest
	case v1alpha1.JudgePerInterval:
		mode = sequential.PerInterval
	default:
		return nil, 0, fmt.Errorf("judge mode %q is not PerRequest or PerInterval", spec.Mode)
	}
	if !(alpha > 0 && alpha <= 0.5) {
		return nil, 0, fmt.Errorf("judge alpha must be in (0, 0.5], got %v", alpha)
	}
	counters := []judgeCounter{{name: JudgeCounterErrors, noun: "error rate",
		pick: func(c JudgeCounters) sequential.Counts {
			return sequential.Counts{Requests: c.Requests, Events: c.Errors}
		}}}
	if spec.SlowRequests != "" {
		counters = append(counters, judgeCounter{name: JudgeCounterSlowRequests, noun: "slow-request rate",
			pick: func(c JudgeCounters) sequential.Counts {
				return sequential.Counts{Requests: c.Requests, Events: c.SlowRequests}
			}})
	}
	cfg := sequential.Config{Alpha: alpha / float64(len(counters)), Tolerance: tolerance, Mode: mode}
	test, err := sequential.New(cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("judge: %w", err)
	}
	for i := range counters {
		counters[i].test = test
	}
	return counters, alpha, nil
}

// previousMetric finds a counter's evidence in the previous status.
func previousMetric(prev *v1alpha1.JudgeStatus, name string) v1alpha1.JudgeMetricStatus {
	if prev != nil {
		for _, m := range prev.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	return v1alpha1.JudgeMetricStatus{Name: name}
}

func stateFromStatus(m v1alpha1.JudgeMetricStatus) sequential.State {
	st := sequential.State{
		Canary:       countsFromSample(m.Canary),
		Primary:      countsFromSample(m.Primary),
		Observations: m.Observations,
		LogRollback:  append([]float64(nil), m.LogRollback...),
		LogPromotion: append([]float64(nil), m.LogPromotion...),
	}
	if m.LastCanary != nil {
		c := countsFromSample(*m.LastCanary)
		st.LastCanary = &c
	}
	if m.LastPrimary != nil {
		p := countsFromSample(*m.LastPrimary)
		st.LastPrimary = &p
	}
	return st
}

func statusFromState(name string, test *sequential.Test, st sequential.State) v1alpha1.JudgeMetricStatus {
	m := v1alpha1.JudgeMetricStatus{
		Name:              name,
		Canary:            sampleFromCounts(st.Canary),
		Primary:           sampleFromCounts(st.Primary),
		Observations:      st.Observations,
		LogRollback:       append([]float64(nil), st.LogRollback...),
		LogPromotion:      append([]float64(nil), st.LogPromotion...),
		RollbackEvidence:  test.RollbackEvidence(st),
		PromotionEvidence: test.PromotionEvidence(st),
	}
	if st.LastCanary != nil {
		c := sampleFromCounts(*st.LastCanary)
		m.LastCanary = &c
	}
	if st.LastPrimary != nil {
		p := sampleFromCounts(*st.LastPrimary)
		m.LastPrimary = &p
	}
	return m
}

func countsFromSample(s v1alpha1.CounterSample) sequential.Counts {
	return sequential.Counts{Requests: s.Requests, Events: s.Events}
}

func sampleFromCounts(c sequential.Counts) v1alpha1.CounterSample {
	return v1alpha1.CounterSample{Requests: c.Requests, Events: c.Events}
}

// judgeSummary says in words where each counter stands, for example "canary
// error rate 2.1× primary (2.1% vs 1.0%); evidence 38 of 20 needed".
func judgeSummary(counters []judgeCounter, metrics []v1alpha1.JudgeMetricStatus, threshold float64, promote bool) string {
	parts := make([]string, 0, len(metrics))
	for i, m := range metrics {
		noun := counters[i].noun
		if m.Canary.Requests == 0 || m.Primary.Requests == 0 {
			parts = append(parts, fmt.Sprintf("canary %s: waiting for new traffic on both versions", noun))
			continue
		}
		s := fmt.Sprintf("%s; evidence %s of %s needed", judgeRatePhrase(noun, m), judgeNumber(m.RollbackEvidence), judgeNumber(threshold))
		if promote {
			s += fmt.Sprintf(", promotion evidence %s", judgeNumber(m.PromotionEvidence))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// judgeRatePhrase compares the versions' rates of one counter since the judge
// started.
func judgeRatePhrase(noun string, m v1alpha1.JudgeMetricStatus) string {
	canary := float64(m.Canary.Events) / float64(m.Canary.Requests)
	primary := float64(m.Primary.Events) / float64(m.Primary.Requests)
	if primary == 0 {
		return fmt.Sprintf("canary %s %s, primary 0%%", noun, judgePercent(canary))
	}
	return fmt.Sprintf("canary %s %.1f× primary (%s vs %s)", noun, canary/primary, judgePercent(canary), judgePercent(primary))
}

func judgePercent(x float64) string {
	if p := 100 * x; p < 10 {
		return fmt.Sprintf("%.2g%%", p)
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// judgeNumber prints an e-value or threshold briefly: 0.42, 3.1, 38, 1.2e+08.
func judgeNumber(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2g", x)
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.2g", x)
	}
}
