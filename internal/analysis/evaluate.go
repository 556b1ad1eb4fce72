package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Evaluate turns the answer to a metric's query into the check's result at
// now. An ErrNoData error, or a value that is NaN or infinite, is NoData; any
// other error is Error (the provider could not answer, so nothing can be
// concluded). Otherwise the value Passed when it lies inside the metric's
// threshold range, bounds included, and Failed when it does not; the message
// names the value and the range.
func Evaluate(metric v1alpha1.Metric, value float64, err error, now time.Time) v1alpha1.MetricResult {
	result := v1alpha1.MetricResult{Name: metric.Name, Time: metav1.NewTime(now)}
	switch {
	case err != nil && errors.Is(err, ErrNoData):
		result.Outcome = v1alpha1.OutcomeNoData
		result.Message = err.Error()
		if math.IsNaN(value) || math.IsInf(value, 0) {
			result.Value = formatValue(value)
		}
		return result
	case err != nil:
		result.Outcome = v1alpha1.OutcomeError
		result.Message = err.Error()
		return result
	}
	result.Value = formatValue(value)
	if math.IsNaN(value) || math.IsInf(value, 0) {
		result.Outcome = v1alpha1.OutcomeNoData
		result.Message = fmt.Sprintf("no data: value %s is not a number to compare", result.Value)
		return result
	}
	result.Outcome, result.Message = compare(value, metric.ThresholdRange)
	return result
}

// Check renders metric's query with vars, asks p for its value and evaluates
// it at now: one threshold check from spec to result.
func Check(ctx context.Context, p Provider, metric v1alpha1.Metric, vars QueryVars, now time.Time) v1alpha1.MetricResult {
	query, err := RenderQuery(metric.Query, vars)
	if err != nil {
		return Evaluate(metric, 0, err, now)
	}
	value, err := p.Query(ctx, query)
	return Evaluate(metric, value, err, now)
}

// compare places value against r and explains the outcome.
func compare(value float64, r v1alpha1.ThresholdRange) (v1alpha1.MetricOutcome, string) {
	v, bounds := formatValue(value), formatRange(r)
	switch {
	case r.Min == nil && r.Max == nil:
		// The API server refuses such a range; fail safe if one gets here.
		return v1alpha1.OutcomeError, fmt.Sprintf("value %s cannot be judged: thresholdRange has neither min nor max", v)
	case r.Min != nil && value < *r.Min:
		return v1alpha1.OutcomeFailed, fmt.Sprintf("value %s is below the range %s", v, bounds)
	case r.Max != nil && value > *r.Max:
		return v1alpha1.OutcomeFailed, fmt.Sprintf("value %s is above the range %s", v, bounds)
	}
	return v1alpha1.OutcomePassed, fmt.Sprintf("value %s is within the range %s", v, bounds)
}

// formatRange writes r in interval notation, open where a bound is missing:
// [0.9, 1], (-Inf, 0.01], [100, +Inf).
func formatRange(r v1alpha1.ThresholdRange) string {
	lower, upper := "(-Inf", "+Inf)"
	if r.Min != nil {
		lower = "[" + formatValue(*r.Min)
	}
	if r.Max != nil {
		upper = formatValue(*r.Max) + "]"
	}
	return lower + ", " + upper
}

// formatValue writes v with the fewest digits that read back as v.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
