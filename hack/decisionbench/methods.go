package main

import (
	"fmt"
	"math"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
)

// never is the bucket returned by a method that does not roll back.
const never = -1

// method is one way of deciding on a release. decide returns the bucket at
// whose end it rolls back, or never.
type method struct {
	name   string
	short  string
	decide func(s *stream) (int, error)
}

// methods are compared side by side, each on the same streams.
func methods() []method {
	return []method{
		judgeMethod("Sluice judge, PerRequest", "judge/req", v1alpha1.Judge{Mode: v1alpha1.JudgePerRequest}),
		judgeMethod("Sluice judge, PerRequest, tolerance 1.5", "judge/req ψ₀=1.5",
			v1alpha1.Judge{Mode: v1alpha1.JudgePerRequest, Tolerance: 1.5}),
		judgeMethod("Sluice judge, PerInterval", "judge/int", v1alpha1.Judge{Mode: v1alpha1.JudgePerInterval}),
		flaggerMethod(0.01), flaggerMethod(0.02), flaggerMethod(0.05),
		argoMethod(0.01), argoMethod(0.02),
		fixedHorizonMethod(10, 0.05),
	}
}

// judgeMethod runs the operator's own judge (analysis.EvaluateJudge) on the
// cumulative counters, read once a minute, with alpha 0.05.
func judgeMethod(name, short string, spec v1alpha1.Judge) method {
	spec.Alpha = 0.05
	return method{name: name, short: short, decide: func(s *stream) (int, error) {
		var cum analysis.JudgeReading
		st, err := analysis.EvaluateJudge(spec, nil, cum)
		if err != nil {
			return never, err
		}
		for b := range buckets {
			cum.Canary.Requests += s.canaryRequests[b]
			cum.Canary.Errors += s.canaryErrors[b]
			cum.Primary.Requests += s.primaryRequests[b]
			cum.Primary.Errors += s.primaryErrors[b]
			if (b+1)%bucketsPerMin != 0 {
				continue
			}
			if st, err = analysis.EvaluateJudge(spec, &st, cum); err != nil {
				return never, err
			}
			if st.Decision == v1alpha1.JudgeRollback {
				return b, nil
			}
		}
		return never, nil
	}}
}

// flaggerMethod is Flagger's rule: every minute, the canary's error rate over
// the last minute is checked against a threshold; the fifth failed check
// rolls back. A minute without canary requests is no data, not a failure.
func flaggerMethod(threshold float64) method {
	return thresholdMethod(fmt.Sprintf("Flagger-style, 1m window, > %g%%, 5 failed checks", 100*threshold),
		fmt.Sprintf("flagger %g%%", 100*threshold), 1, threshold, 5)
}

// argoMethod is an Argo Rollouts analysis: every minute, the canary's error
// rate over the last five minutes is measured; the measurement fails above
// the threshold, and the analysis fails when failures exceed failureLimit 3.
func argoMethod(threshold float64) method {
	return thresholdMethod(fmt.Sprintf("Argo-style, 5m window, > %g%%, failureLimit 3", 100*threshold),
		fmt.Sprintf("argo %g%%", 100*threshold), 5, threshold, 4)
}

func thresholdMethod(name, short string, windowMinutes int, threshold float64, failuresToRollback int) method {
	return method{name: name, short: short, decide: func(s *stream) (int, error) {
		failures := 0
		for b := bucketsPerMin - 1; b < buckets; b += bucketsPerMin {
			var requests, errors int64
			for i := max(0, b+1-windowMinutes*bucketsPerMin); i <= b; i++ {
				requests += s.canaryRequests[i]
				errors += s.canaryErrors[i]
			}
			if requests > 0 && float64(errors)/float64(requests) > threshold {
				failures++
			}
			if failures >= failuresToRollback {
				return b, nil
			}
		}
		return never, nil
	}}
}

// fixedHorizonMethod tests once, after the given minutes: a one-sided
// two-proportion z-test of canary against primary at level alpha.
func fixedHorizonMethod(minutes int, alpha float64) method {
	z := normalQuantile(1 - alpha)
	return method{name: fmt.Sprintf("Fixed horizon, z-test at %d min, α = %g", minutes, alpha),
		short: fmt.Sprintf("fixed %dm", minutes), decide: func(s *stream) (int, error) {
			var cr, ce, pr, pe float64
			end := minutes*bucketsPerMin - 1
			for b := 0; b <= end; b++ {
				cr, ce = cr+float64(s.canaryRequests[b]), ce+float64(s.canaryErrors[b])
				pr, pe = pr+float64(s.primaryRequests[b]), pe+float64(s.primaryErrors[b])
			}
			if cr == 0 || pr == 0 {
				return never, nil
			}
			pooled := (ce + pe) / (cr + pr)
			se := math.Sqrt(pooled * (1 - pooled) * (1/cr + 1/pr))
			if se > 0 && (ce/cr-pe/pr)/se > z {
				return end, nil
			}
			return never, nil
		}}
}

// normalQuantile inverts the standard normal CDF by bisection; it is called
// once per method.
func normalQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
