package apiserver

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// ChecksTemplate is the spec of an analysis template for controller tests:
// one metric, error-rate, whose query is vector($(args.value)) (a Number
// argument that defaults to value) and which passes up to 0.01, checked
// every 5 seconds against the Prometheus at address. A test makes its
// checks pass or fail through the argument, with no series to feed.
func ChecksTemplate(address, value string) v1alpha1.AnalysisTemplateSpec {
	return v1alpha1.AnalysisTemplateSpec{
		Args: []v1alpha1.AnalysisTemplateArg{{Name: "value", Type: v1alpha1.ArgNumber, Default: ptr.To(value)}},
		Analysis: v1alpha1.Analysis{
			Interval: &metav1.Duration{Duration: 5 * time.Second},
			Provider: &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: address},
			Metrics: []v1alpha1.Metric{{Name: "error-rate", Query: "vector($(args.value))",
				ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.01)}}},
		},
	}
}
