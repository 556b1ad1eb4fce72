package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderType names a metric provider. An unknown name is refused.
// +kubebuilder:validation:Enum=prometheus
type ProviderType string

// ProviderPrometheus reads metrics from a Prometheus-compatible HTTP API.
const ProviderPrometheus ProviderType = "prometheus"

// MetricProvider says where the queries of an analysis are sent.
type MetricProvider struct {
	// Type of the provider. Only prometheus is known, and it is the
	// default.
	// +kubebuilder:default=prometheus
	// +optional
	Type ProviderType `json:"type,omitempty"`

	// Address is the base URL of the provider's HTTP API, for example
	// http://prometheus.istio-system:9090 (a path prefix such as /prometheus
	// is kept; Sluice appends /api/v1/query itself). At most 2048
	// characters. No default.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^ /?#]+([/?#][^ ]*)?$')",message="address must be an http:// or https:// URL, for example http://prometheus.monitoring:9090"
	// +kubebuilder:validation:XValidation:rule="!self.matches('/api/v1/query(_range)?/?([?#].*)?$')",message="address is the base URL of Prometheus without /api/v1/query (Sluice appends it): write for example http://prometheus.monitoring:9090"
	// +required
	Address string `json:"address"`

	// Timeout of one query, a duration from 100ms to 5m. Defaults to 10s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('100ms') && duration(self) <= duration('5m')",message="timeout must be a duration between 100ms and 5m, such as 10s or 1m30s"
	// +kubebuilder:default="10s"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a Secret in this namespace with credentials for the
	// provider: keys username and password (basic auth), or token (bearer),
	// and optionally ca.crt, tls.crt and tls.key. The Secret must consent:
	// it is used only when labelled rollouts.sluice.dev/provider-credentials
	// "true", and never when it is a ServiceAccount token. No default:
	// without it, queries carry no credentials.
	// +kubebuilder:validation:XValidation:rule="has(self.name) && size(self.name) > 0",message="secretRef needs the name of a Secret in this namespace; remove secretRef to send no credentials"
	// +optional
	SecretRef *corev1.LocalObjectReference `json:"secretRef,omitempty"`

	// InsecureSkipVerify turns off verification of the provider's TLS
	// certificate. Use only for testing. Defaults to false.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`

	// AllowInsecureCredentials lets Sluice send the credentials of secretRef
	// to an http:// address, where anyone on the path can read them. Without
	// it, credentials go only to https:// addresses and a check with
	// credentials and an http:// address is a provider error.
	// +optional
	AllowInsecureCredentials bool `json:"allowInsecureCredentials,omitempty"`
}

// ThresholdRange bounds the value a metric may take and still pass. A value
// outside the range is a failed check. At least one bound must be set.
// +kubebuilder:validation:XValidation:rule="has(self.min) || has(self.max)",message="thresholdRange needs min, max or both"
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="thresholdRange.min must not be greater than thresholdRange.max"
type ThresholdRange struct {
	// Min is the lowest passing value, inclusive. No default: without it
	// there is no lower bound.
	// +optional
	Min *float64 `json:"min,omitempty"`

	// Max is the highest passing value, inclusive. No default: without it
	// there is no upper bound.
	// +optional
	Max *float64 `json:"max,omitempty"`
}

// Metric is one threshold check run at every analysis interval.
type Metric struct {
	// Name of the check, a DNS label of 1 to 63 characters, unique within the
	// analysis. It names the check in status, events and the operator's
	// metrics. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Provider of this metric. Defaults to the analysis' provider.
	// +optional
	Provider *MetricProvider `json:"provider,omitempty"`

	// Query returning one number, 1 to 4096 characters. It is a Go template;
	// the fields available are {{ .Namespace }}, {{ .Name }} (the target),
	// {{ .Canary }} and {{ .Primary }} (the workloads compared) and
	// {{ .Interval }} (the analysis interval as a PromQL duration, for
	// example 1m). {{ .Workload }} belongs to judge queries and is refused
	// here. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="!self.matches('[{][{][^}]*[.]Workload')",message="{{ .Workload }} exists only in judge queries (it would render empty here): use {{ .Canary }} for the new version or {{ .Primary }} for the stable one"
	// +kubebuilder:validation:XValidation:rule="!self.replace('.Namespace', '#').replace('.Name', '#').replace('.Canary', '#').replace('.Primary', '#').replace('.Interval', '#').replace('.Workload', '#').matches('[{][{][^}]*([.][A-Za-z_]|#[A-Za-z0-9_])')",message="query uses an unknown template field: the fields are {{ .Namespace }}, {{ .Name }}, {{ .Canary }}, {{ .Primary }} and {{ .Interval }}"
	// +kubebuilder:validation:XValidation:rule="self.findAll('[{][{]').size() == self.findAll('[}][}]').size()",message="query has unbalanced {{ and }}: every template action is written {{ .Field }}"
	// +required
	Query string `json:"query"`

	// ThresholdRange is the passing range of the query's value.
	// +required
	ThresholdRange ThresholdRange `json:"thresholdRange"`
}

// JudgeMode says what one observation of the statistical judge is.
// +kubebuilder:validation:Enum=PerRequest;PerInterval
type JudgeMode string

const (
	// JudgePerRequest treats every request as an observation. It decides
	// fastest; use it when error rates are steady from minute to minute.
	JudgePerRequest JudgeMode = "PerRequest"

	// JudgePerInterval treats each analysis interval as one observation. It is
	// slower but stays honest when error rates jitter between intervals.
	JudgePerInterval JudgeMode = "PerInterval"
)

// Judge compares the canary with the primary on cumulative counters with an
// anytime-valid sequential test: the rate of false rollbacks of a healthy
// canary stays below Alpha however often it looks.
type Judge struct {
	// Provider of the judge's queries. Defaults to the analysis' provider.
	// +optional
	Provider *MetricProvider `json:"provider,omitempty"`

	// Requests is a query for the cumulative number of requests one workload
	// served (a raw counter, not rate() or increase()), 1 to 4096
	// characters; {{ .Workload }} is replaced by the canary's and the
	// primary's workload name in turn, so it must appear. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.matches('[{][{]-?[[:space:]]*[.]Workload[[:space:]]*-?[}][}]')",message="requests must select one workload with {{ .Workload }} (the judge reads it for the canary and the primary in turn), for example sum(istio_requests_total{destination_workload=\"{{ .Workload }}\"})"
	// +kubebuilder:validation:XValidation:rule="!self.matches('(^|[^A-Za-z0-9_:])(rate|irate|increase)[[:space:]]*[(]')",message="requests must be a cumulative counter: remove rate()/increase() and write for example sum(istio_requests_total{destination_workload=\"{{ .Workload }}\"})"
	// +kubebuilder:validation:XValidation:rule="!self.replace('.Namespace', '#').replace('.Name', '#').replace('.Canary', '#').replace('.Primary', '#').replace('.Interval', '#').replace('.Workload', '#').matches('[{][{][^}]*([.][A-Za-z_]|#[A-Za-z0-9_])')",message="requests uses an unknown template field: the fields are {{ .Workload }}, {{ .Namespace }} and {{ .Name }}"
	// +required
	Requests string `json:"requests"`

	// Errors is a query for the cumulative number of failed requests of one
	// workload ({{ .Workload }}, which must appear), a raw counter, 1 to
	// 4096 characters. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.matches('[{][{]-?[[:space:]]*[.]Workload[[:space:]]*-?[}][}]')",message="errors must select one workload with {{ .Workload }} (the judge reads it for the canary and the primary in turn)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('(^|[^A-Za-z0-9_:])(rate|irate|increase)[[:space:]]*[(]')",message="errors must be a cumulative counter: remove rate()/increase() and sum the raw counter"
	// +kubebuilder:validation:XValidation:rule="!self.replace('.Namespace', '#').replace('.Name', '#').replace('.Canary', '#').replace('.Primary', '#').replace('.Interval', '#').replace('.Workload', '#').matches('[{][{][^}]*([.][A-Za-z_]|#[A-Za-z0-9_])')",message="errors uses an unknown template field: the fields are {{ .Workload }}, {{ .Namespace }} and {{ .Name }}"
	// +required
	Errors string `json:"errors"`

	// SlowRequests is an optional query for the cumulative number of requests
	// of one workload ({{ .Workload }}) slower than a latency bound, for
	// example a histogram's _count minus its _bucket{le="0.5"}. At most
	// 4096 characters; {{ .Workload }} must appear. No default: without it
	// the judge compares errors only.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self.matches('[{][{]-?[[:space:]]*[.]Workload[[:space:]]*-?[}][}]')",message="slowRequests must select one workload with {{ .Workload }} (the judge reads it for the canary and the primary in turn)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('(^|[^A-Za-z0-9_:])(rate|irate|increase)[[:space:]]*[(]')",message="slowRequests must be a cumulative counter: remove rate()/increase() and subtract the raw _bucket counter from the raw _count"
	// +kubebuilder:validation:XValidation:rule="!self.replace('.Namespace', '#').replace('.Name', '#').replace('.Canary', '#').replace('.Primary', '#').replace('.Interval', '#').replace('.Workload', '#').matches('[{][{][^}]*([.][A-Za-z_]|#[A-Za-z0-9_])')",message="slowRequests uses an unknown template field: the fields are {{ .Workload }}, {{ .Namespace }} and {{ .Name }}"
	// +optional
	SlowRequests string `json:"slowRequests,omitempty"`

	// Alpha bounds the probability of rolling back a canary that is no worse
	// than the primary (within Tolerance). It is split between the errors and
	// slow-request tests. Greater than 0 and at most 0.5; defaults to 0.05.
	// +kubebuilder:validation:XValidation:rule="self > 0.0 && self <= 0.5",message="alpha must be greater than 0 and at most 0.5, for example 0.05 (a 5% chance of rolling back a healthy canary)"
	// +kubebuilder:default=0.05
	// +optional
	Alpha float64 `json:"alpha,omitempty"`

	// Tolerance is how many times the primary's failure rate the canary may
	// have and still count as healthy (ψ₀). 1 means "no worse"; a value such as
	// 1.2 absorbs noise between versions. From 1 to 10; defaults to 1.
	// +kubebuilder:validation:XValidation:rule="self >= 1.0 && self <= 10.0",message="tolerance must be from 1 (no worse than the primary) to 10, for example 1.2"
	// +kubebuilder:default=1
	// +optional
	Tolerance float64 `json:"tolerance,omitempty"`

	// Mode is PerRequest or PerInterval. Defaults to PerRequest.
	// +kubebuilder:default=PerRequest
	// +optional
	Mode JudgeMode `json:"mode,omitempty"`

	// PromoteOnEvidence lets a step end early once the judge has evidence that
	// the canary is within tolerance; a step's pause still holds as a minimum.
	// Canary only: a BlueGreen phase completes after its checks and refuses
	// it. Defaults to false.
	// +optional
	PromoteOnEvidence bool `json:"promoteOnEvidence,omitempty"`
}

// Analysis is what Sluice checks while a new version receives traffic.
// +kubebuilder:validation:XValidation:rule="!has(self.minSampleRequests) || self.minSampleRequests == 0 || (has(self.sampleQuery) && self.sampleQuery.matches('[^[:space:]]'))",message="minSampleRequests needs sampleQuery: a query for the requests the canary served in the interval, for example sum(increase(istio_requests_total{destination_workload=\"{{ .Canary }}\"}[{{ .Interval }}])); or remove minSampleRequests"
// +kubebuilder:validation:XValidation:rule="has(self.templateRef) || (has(self.metrics) && size(self.metrics) > 0) || has(self.judge)",message="analysis needs a templateRef, at least one metric or a judge"
type Analysis struct {
	// TemplateRef starts this analysis from an AnalysisTemplate or a
	// ClusterAnalysisTemplate. The other fields set here override the
	// template's: scalars and the provider when set, metrics by name (a
	// metric named like one of the template's replaces it, others are
	// added), the judge as a whole. The template is resolved when a release
	// starts and pinned in status. No default.
	// +optional
	TemplateRef *AnalysisTemplateRef `json:"templateRef,omitempty"`

	// Interval between two checks, a duration from 5s to 1h. Defaults to
	// the template's, else 1m (left empty here, so that a template's value
	// can apply).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('5s') && duration(self) <= duration('1h')",message="interval must be a duration between 5s and 1h, such as 30s or 1m30s"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// FailureLimit is the number of failed checks that roll the release back,
	// 1 to 100. Defaults to the template's, else 2.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	FailureLimit int32 `json:"failureLimit,omitempty"`

	// ErrorLimit is the number of consecutive checks that could not be run
	// (provider unreachable, bad query) after which the release pauses and
	// says why. Provider errors never roll back and never promote. 1 to 100;
	// defaults to the template's, else 5.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	ErrorLimit int32 `json:"errorLimit,omitempty"`

	// MinSampleRequests is the number of requests the canary must have served
	// in an interval for its checks to count. Below it a check is "no data": the
	// release holds, never promotes and counts no failure. At least 0;
	// defaults to 0 (no minimum). Needs SampleQuery.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinSampleRequests int64 `json:"minSampleRequests,omitempty"`

	// SampleQuery counts the requests the canary served in the interval (same
	// template fields as a metric's query). Needed with MinSampleRequests. At
	// most 4096 characters; no default.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="!self.matches('[{][{][^}]*[.]Workload')",message="{{ .Workload }} exists only in judge queries (it would render empty here): use {{ .Canary }}"
	// +kubebuilder:validation:XValidation:rule="!self.replace('.Namespace', '#').replace('.Name', '#').replace('.Canary', '#').replace('.Primary', '#').replace('.Interval', '#').replace('.Workload', '#').matches('[{][{][^}]*([.][A-Za-z_]|#[A-Za-z0-9_])')",message="sampleQuery uses an unknown template field: the fields are {{ .Namespace }}, {{ .Name }}, {{ .Canary }}, {{ .Primary }} and {{ .Interval }}"
	// +optional
	SampleQuery string `json:"sampleQuery,omitempty"`

	// Provider is the default provider of the metrics and the judge.
	// Defaults to the template's, else to the operator's default provider
	// (--default-prometheus-address); with neither, a metric or judge
	// without a provider of its own stalls the release.
	// +optional
	Provider *MetricProvider `json:"provider,omitempty"`

	// Metrics are the threshold checks, at most 16, each name once. No
	// default.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Metrics []Metric `json:"metrics,omitempty"`

	// Judge is the statistical comparison of canary and primary. No default:
	// without it only the threshold metrics decide.
	// +optional
	Judge *Judge `json:"judge,omitempty"`
}
