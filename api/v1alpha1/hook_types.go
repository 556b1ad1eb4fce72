package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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
	// URL to POST to, http:// or https://, at most 2048 characters. No
	// default.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^ /?#]+([/?#][^ ]*)?$')",message="webhook url must be an http:// or https:// URL"
	// +required
	URL string `json:"url"`

	// Timeout of one call, a duration from 1s to 10m. Defaults to 10s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="webhook timeout must be a duration between 1s and 10m, such as 30s"
	// +kubebuilder:default="10s"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Retries after a failed or timed-out call before the hook fails, 0 to
	// 10 (0: one call only). Defaults to 2.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=2
	// +optional
	Retries *int32 `json:"retries,omitempty"`

	// Metadata is sent with the call. No default.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// DefaultWebhookRetries is WebhookHook.Retries when it is unset.
const DefaultWebhookRetries int32 = 2

// Attempts is how many calls the hook makes at most: one plus its retries
// (DefaultWebhookRetries when Retries is unset). Retries is a pointer so
// that 0 written by a Go client is sent, and kept, instead of being
// dropped as empty and defaulted to 2.
func (w *WebhookHook) Attempts() int32 {
	if w.Retries == nil {
		return DefaultWebhookRetries + 1
	}
	return *w.Retries + 1
}

// JobHook runs a Kubernetes Job in the namespace of the release.
type JobHook struct {
	// Template of the Job's pod: metadata (labels, annotations) and spec
	// (a PodSpec with at least one container), as in a Job. The API server
	// checks its shape when the release object is written; the rest (for
	// example a missing image) is checked when Sluice creates the Job, and
	// the hook fails with the server's message in status. The restart
	// policy defaults to Never. No default.
	// +kubebuilder:validation:XValidation:rule="has(self.spec) && size(self.spec.containers) > 0",message="template is a pod template, as in a Job: put the pod spec under template.spec, for example template: {spec: {containers: [{name: test, image: ...}]}}"
	// +required
	Template corev1.PodTemplateSpec `json:"template"`

	// TemplateError is not part of the API: it holds why the stored template
	// could not be decoded (written under an older schema), so that the
	// operator refuses this one object with a condition instead of failing
	// to read every object of its kind.
	TemplateError string `json:"-"`

	// ActiveDeadlineSeconds bounds how long the Job may run, 1 to 86400.
	// Defaults to 600.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=600
	// +optional
	ActiveDeadlineSeconds int64 `json:"activeDeadlineSeconds,omitempty"`

	// BackoffLimit is the number of pod retries before the Job fails, 0 to
	// 10. Defaults to 0.
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
