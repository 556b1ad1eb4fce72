package analysis

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

var checkTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func bound(v float64) *float64 { return &v }

func TestEvaluate(t *testing.T) {
	atMost := v1alpha1.ThresholdRange{Max: bound(0.01)}
	atLeast := v1alpha1.ThresholdRange{Min: bound(0.99)}
	between := v1alpha1.ThresholdRange{Min: bound(10), Max: bound(20)}

	tests := []struct {
		name        string
		rng         v1alpha1.ThresholdRange
		value       float64
		err         error
		wantOutcome v1alpha1.MetricOutcome
		wantValue   string
		wantMessage []string
	}{
		{name: "pass a value below the maximum", rng: atMost, value: 0.002,
			wantOutcome: v1alpha1.OutcomePassed, wantValue: "0.002",
			wantMessage: []string{"0.002 is within the range (-Inf, 0.01]"}},
		{name: "pass a value equal to the maximum, bounds are inclusive", rng: atMost, value: 0.01,
			wantOutcome: v1alpha1.OutcomePassed, wantValue: "0.01"},
		{name: "fail a value above the maximum and name the value and the range", rng: atMost, value: 0.0213,
			wantOutcome: v1alpha1.OutcomeFailed, wantValue: "0.0213",
			wantMessage: []string{"0.0213 is above the range (-Inf, 0.01]"}},
		{name: "fail a value below the minimum", rng: atLeast, value: 0.5,
			wantOutcome: v1alpha1.OutcomeFailed, wantValue: "0.5",
			wantMessage: []string{"0.5 is below the range [0.99, +Inf)"}},
		{name: "pass a value equal to the minimum", rng: atLeast, value: 0.99,
			wantOutcome: v1alpha1.OutcomePassed},
		{name: "pass a value inside a closed range", rng: between, value: 15,
			wantOutcome: v1alpha1.OutcomePassed, wantMessage: []string{"[10, 20]"}},
		{name: "fail a value above a closed range", rng: between, value: 20.5,
			wantOutcome: v1alpha1.OutcomeFailed, wantMessage: []string{"20.5 is above the range [10, 20]"}},
		{name: "report no data for NaN and keep the value as text", rng: atMost, value: math.NaN(),
			wantOutcome: v1alpha1.OutcomeNoData, wantValue: "NaN", wantMessage: []string{"not a number"}},
		{name: "report no data for an infinite value rather than fail it", rng: atMost, value: math.Inf(1),
			wantOutcome: v1alpha1.OutcomeNoData, wantValue: "+Inf"},
		{name: "report no data when the provider found no series", rng: atMost,
			err:         NoDataf("the query matched no series"),
			wantOutcome: v1alpha1.OutcomeNoData, wantMessage: []string{"no data: the query matched no series"}},
		{name: "keep NaN as the value of a no-data error", rng: atMost, value: math.NaN(),
			err: NoDataf("the query returned NaN"), wantOutcome: v1alpha1.OutcomeNoData, wantValue: "NaN"},
		{name: "report an error when the provider could not answer", rng: atMost,
			err:         ProviderErrorf("query timed out: %w", context.DeadlineExceeded),
			wantOutcome: v1alpha1.OutcomeError, wantMessage: []string{"provider error: query timed out"}},
		{name: "report an error for an error of no known class, never a pass", rng: atMost,
			err: errors.New("boom"), wantOutcome: v1alpha1.OutcomeError, wantMessage: []string{"boom"}},
		{name: "report an error for a range without bounds, never a pass", value: 1,
			wantOutcome: v1alpha1.OutcomeError, wantMessage: []string{"neither min nor max"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			metric := v1alpha1.Metric{Name: "error-rate", Query: "q", ThresholdRange: tt.rng}

			got := Evaluate(metric, tt.value, tt.err, checkTime)

			g.Expect(got.Name).To(Equal("error-rate"))
			g.Expect(got.Outcome).To(Equal(tt.wantOutcome))
			g.Expect(got.Time.Time).To(Equal(checkTime))
			if tt.wantValue != "" {
				g.Expect(got.Value).To(Equal(tt.wantValue))
			}
			for _, part := range tt.wantMessage {
				g.Expect(got.Message).To(ContainSubstring(part))
			}
		})
	}
}

// fixedProvider answers every query with the same value and error, and
// remembers the last query.
type fixedProvider struct {
	value float64
	err   error
	last  string
}

func (p *fixedProvider) Query(_ context.Context, query string) (float64, error) {
	p.last = query
	return p.value, p.err
}

func TestCheckRendersTheQueryAsksTheProviderAndEvaluates(t *testing.T) {
	g := NewWithT(t)
	p := &fixedProvider{value: 0.2}
	metric := v1alpha1.Metric{Name: "error-rate", Query: `rate(x{w="{{ .Canary }}"}[{{ .Interval }}])`,
		ThresholdRange: v1alpha1.ThresholdRange{Max: bound(0.1)}}

	got := Check(context.Background(), p, metric, QueryVars{Canary: "podinfo", Interval: time.Minute}, checkTime)

	g.Expect(p.last).To(Equal(`rate(x{w="podinfo"}[1m])`))
	g.Expect(got.Outcome).To(Equal(v1alpha1.OutcomeFailed))
}

func TestCheckReportsATemplateErrorWithoutQuerying(t *testing.T) {
	g := NewWithT(t)
	p := &fixedProvider{value: 0}
	metric := v1alpha1.Metric{Name: "m", Query: `x{w="{{ .Canry }}"}`,
		ThresholdRange: v1alpha1.ThresholdRange{Max: bound(1)}}

	got := Check(context.Background(), p, metric, QueryVars{}, checkTime)

	g.Expect(p.last).To(BeEmpty())
	g.Expect(got.Outcome).To(Equal(v1alpha1.OutcomeError))
	g.Expect(got.Message).To(ContainSubstring("Canry"))
}
