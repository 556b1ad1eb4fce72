package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TargetRef names the user's workload. Its pod template is the template of
// every new version: changing it (an image bump in Git) starts a release.
type TargetRef struct {
	// Kind of the workload. Only Deployment is supported.
	// +kubebuilder:validation:Enum=Deployment
	// +kubebuilder:default=Deployment
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the workload, in the namespace of this object. Sluice derives the
	// names of the objects it manages from it (for example <name>-primary), so
	// it must be a DNS label of at most 52 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self.size() <= 52",message="targetRef.name must be at most 52 characters: Sluice derives names such as <name>-primary and <name>-preview from it"
	// +required
	Name string `json:"name"`
}

// ServicePort describes the port of the Services Sluice manages in front of
// the workload.
type ServicePort struct {
	// Port the Services expose.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	Port int32 `json:"port"`

	// TargetPort is the container port (number or name) traffic goes to.
	// Defaults to Port.
	// +kubebuilder:validation:XIntOrString
	// +optional
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`

	// PortName names the Service port. Istio infers the protocol from it.
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:default=http
	// +optional
	PortName string `json:"portName,omitempty"`
}

// ProviderType names a metric provider. An unknown name is refused.
// +kubebuilder:validation:Enum=prometheus
type ProviderType string

// ProviderPrometheus reads metrics from a Prometheus-compatible HTTP API.
const ProviderPrometheus ProviderType = "prometheus"

// MetricProvider says where the queries of an analysis are sent.
type MetricProvider struct {
	// Type of the provider.
	// +kubebuilder:default=prometheus
	// +optional
	Type ProviderType `json:"type,omitempty"`

	// Address is the base URL of the provider's HTTP API, for example
	// http://prometheus.istio-system:9090.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^ /?#]+([/?#][^ ]*)?$')",message="address must be an http:// or https:// URL, for example http://prometheus.monitoring:9090"
	// +required
	Address string `json:"address"`

	// Timeout of one query.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100ms') && duration(self) <= duration('5m')",message="timeout must be between 100ms and 5m"
	// +kubebuilder:default="10s"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a Secret in this namespace with credentials for the
	// provider: keys username and password (basic auth), or token (bearer),
	// and optionally ca.crt, tls.crt and tls.key. The Secret must consent:
	// it is used only when labelled rollouts.sluice.dev/provider-credentials
	// "true", and never when it is a ServiceAccount token.
	// +optional
	SecretRef *corev1.LocalObjectReference `json:"secretRef,omitempty"`

	// InsecureSkipVerify turns off verification of the provider's TLS
	// certificate. Use only for testing.
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
	// Min is the lowest passing value, inclusive.
	// +optional
	Min *float64 `json:"min,omitempty"`

	// Max is the highest passing value, inclusive.
	// +optional
	Max *float64 `json:"max,omitempty"`
}

// Metric is one threshold check run at every analysis interval.
type Metric struct {
	// Name of the check, a DNS label unique within the analysis. It names the
	// check in status, events and the operator's metrics.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Provider of this metric. Defaults to the analysis' provider.
	// +optional
	Provider *MetricProvider `json:"provider,omitempty"`

	// Query returning one number. It is a Go template; the fields available are
	// {{ .Namespace }}, {{ .Name }} (the target), {{ .Canary }} and
	// {{ .Primary }} (the workloads compared) and {{ .Interval }} (the analysis
	// interval as a PromQL duration, for example 1m).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
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
	// served; {{ .Workload }} is replaced by the canary's and the primary's
	// workload name in turn.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Requests string `json:"requests"`

	// Errors is a query for the cumulative number of failed requests of one
	// workload ({{ .Workload }}).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Errors string `json:"errors"`

	// SlowRequests is an optional query for the cumulative number of requests
	// of one workload ({{ .Workload }}) slower than a latency bound, for
	// example a histogram's _count minus its _bucket{le="0.5"}.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	SlowRequests string `json:"slowRequests,omitempty"`

	// Alpha bounds the probability of rolling back a canary that is no worse
	// than the primary (within Tolerance). It is split between the errors and
	// slow-request tests.
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=0.5
	// +kubebuilder:default=0.05
	// +optional
	Alpha float64 `json:"alpha,omitempty"`

	// Tolerance is how many times the primary's failure rate the canary may
	// have and still count as healthy (ψ₀). 1 means "no worse"; a value such as
	// 1.2 absorbs noise between versions.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=1
	// +optional
	Tolerance float64 `json:"tolerance,omitempty"`

	// Mode is PerRequest or PerInterval.
	// +kubebuilder:default=PerRequest
	// +optional
	Mode JudgeMode `json:"mode,omitempty"`

	// PromoteOnEvidence lets a step end early once the judge has evidence that
	// the canary is within tolerance; a step's pause still holds as a minimum.
	// +optional
	PromoteOnEvidence bool `json:"promoteOnEvidence,omitempty"`
}

// Analysis is what Sluice checks while a new version receives traffic.
// +kubebuilder:validation:XValidation:rule="has(self.provider) || !has(self.metrics) || self.metrics.all(m, has(m.provider))",message="each metric needs a provider: set analysis.provider or metrics[].provider"
// +kubebuilder:validation:XValidation:rule="has(self.provider) || !has(self.judge) || has(self.judge.provider)",message="the judge needs a provider: set analysis.provider or judge.provider"
// +kubebuilder:validation:XValidation:rule="!has(self.metrics) || self.metrics.all(m, self.metrics.exists_one(n, n.name == m.name))",message="metric names must be unique"
// +kubebuilder:validation:XValidation:rule="!has(self.minSampleRequests) || self.minSampleRequests == 0 || has(self.sampleQuery)",message="minSampleRequests needs sampleQuery: a query for the requests the canary served in the interval"
// +kubebuilder:validation:XValidation:rule="(has(self.metrics) && size(self.metrics) > 0) || has(self.judge)",message="analysis needs at least one metric or a judge"
type Analysis struct {
	// Interval between two checks.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5s') && duration(self) <= duration('1h')",message="interval must be between 5s and 1h"
	// +kubebuilder:default="1m"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// FailureLimit is the number of failed checks that roll the release back.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=2
	// +optional
	FailureLimit int32 `json:"failureLimit,omitempty"`

	// ErrorLimit is the number of consecutive checks that could not be run
	// (provider unreachable, bad query) after which the release pauses and
	// says why. Provider errors never roll back and never promote.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=5
	// +optional
	ErrorLimit int32 `json:"errorLimit,omitempty"`

	// MinSampleRequests is the number of requests the canary must have served
	// in an interval for its checks to count. Below it a check is "no data": the
	// release holds, never promotes and counts no failure.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinSampleRequests int64 `json:"minSampleRequests,omitempty"`

	// SampleQuery counts the requests the canary served in the interval (same
	// template fields as a metric's query). Needed with MinSampleRequests.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	SampleQuery string `json:"sampleQuery,omitempty"`

	// Provider is the default provider of the metrics and the judge.
	// +optional
	Provider *MetricProvider `json:"provider,omitempty"`

	// Metrics are the threshold checks.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Metrics []Metric `json:"metrics,omitempty"`

	// Judge is the statistical comparison of canary and primary.
	// +optional
	Judge *Judge `json:"judge,omitempty"`
}

// HookAction is what a hook runs: exactly one of a webhook or a Job.
// +kubebuilder:validation:XValidation:rule="(has(self.webhook) ? 1 : 0) + (has(self.job) ? 1 : 0) == 1",message="a hook runs exactly one of webhook or job"
type HookAction struct {
	// Webhook is called with the release's details; a 2xx answer passes.
	// +optional
	Webhook *WebhookHook `json:"webhook,omitempty"`

	// Job runs a pod to completion; success passes.
	// +optional
	Job *JobHook `json:"job,omitempty"`
}

// WebhookHook calls an HTTP endpoint.
type WebhookHook struct {
	// URL to POST to.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^ /?#]+([/?#][^ ]*)?$')",message="webhook url must be an http:// or https:// URL"
	// +required
	URL string `json:"url"`

	// Timeout of one call.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="webhook timeout must be between 1s and 10m"
	// +kubebuilder:default="10s"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Retries after a failed or timed-out call before the hook fails.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=2
	// +optional
	Retries int32 `json:"retries,omitempty"`

	// Metadata is sent with the call.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// JobHook runs a Kubernetes Job in the namespace of the release.
type JobHook struct {
	// Template of the Job's pod. It is validated by the API server when the
	// Job is created; an invalid template fails the hook with the server's
	// message in status.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +required
	Template corev1.PodTemplateSpec `json:"template"`

	// ActiveDeadlineSeconds bounds how long the Job may run.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=600
	// +optional
	ActiveDeadlineSeconds int64 `json:"activeDeadlineSeconds,omitempty"`

	// BackoffLimit is the number of pod retries before the Job fails.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=0
	// +optional
	BackoffLimit int32 `json:"backoffLimit,omitempty"`
}

// HookPhase is where a hook run stands.
type HookPhase string

const (
	// HookRunning means the hook was started and has not finished.
	HookRunning HookPhase = "Running"
	// HookSucceeded means the hook passed.
	HookSucceeded HookPhase = "Succeeded"
	// HookFailed means the hook failed after its retries.
	HookFailed HookPhase = "Failed"
)

// HookStatus records one hook run for the current revision.
type HookStatus struct {
	// Name of the hook.
	Name string `json:"name"`
	// Type of the hook.
	Type string `json:"type"`
	// Revision the hook ran for.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Phase of the run.
	Phase HookPhase `json:"phase"`
	// Attempts made so far.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// StartedAt is when the first attempt started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the run passed or failed.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Message summarises the result: the webhook's answer or the tail of the
	// Job's logs.
	// +optional
	Message string `json:"message,omitempty"`
}
