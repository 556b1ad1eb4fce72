package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TrafficRouting says which router shifts traffic between primary and canary.
// Exactly one router is set.
// +kubebuilder:validation:XValidation:rule="(has(self.istio) ? 1 : 0) + (has(self.gatewayAPI) ? 1 : 0) == 1",message="set exactly one traffic router: istio or gatewayAPI"
type TrafficRouting struct {
	// Istio routes through a VirtualService.
	// +optional
	Istio *IstioRouting `json:"istio,omitempty"`

	// GatewayAPI routes through an HTTPRoute (Linkerd, Envoy Gateway, Contour,
	// Istio gateways).
	// +optional
	GatewayAPI *GatewayAPIRouting `json:"gatewayAPI,omitempty"`
}

// IstioRouting configures the Istio router.
type IstioRouting struct {
	// VirtualService that carries the weights.
	// +optional
	VirtualService IstioVirtualService `json:"virtualService,omitempty"`
}

// IstioVirtualService names or describes the VirtualService.
type IstioVirtualService struct {
	// Name of an existing VirtualService in this namespace. When set, Sluice
	// changes only the weights of the routes it manages in it; the rest of
	// the object stays yours. When empty, Sluice generates a VirtualService
	// named after the target and owns it.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Name string `json:"name,omitempty"`

	// Routes are the names of the HTTP routes Sluice manages in a named
	// VirtualService. When empty, Sluice manages every HTTP route whose
	// destinations are the primary and canary Services.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Routes []string `json:"routes,omitempty"`

	// Hosts of a generated VirtualService. Defaults to the apex Service.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Hosts []string `json:"hosts,omitempty"`

	// Gateways of a generated VirtualService. Defaults to the mesh.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Gateways []string `json:"gateways,omitempty"`
}

// GatewayAPIRouting configures the Gateway API router.
type GatewayAPIRouting struct {
	// HTTPRoute that carries the weights.
	// +required
	HTTPRoute LocalRef `json:"httpRoute"`
}

// LocalRef names an object in the same namespace.
type LocalRef struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`
}

// Pause holds a release. With a duration it ends by itself; without one it
// waits for a manual promote.
type Pause struct {
	// Duration of the pause, for example 30s or 5m. Empty waits for promote.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('24h')",message="pause duration must be between 1s and 24h"
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// CanaryStep is one step of a release: set a weight, or pause.
// +kubebuilder:validation:XValidation:rule="(has(self.setWeight) ? 1 : 0) + (has(self.pause) ? 1 : 0) == 1",message="each step sets exactly one of setWeight or pause"
type CanaryStep struct {
	// SetWeight sends this percentage of traffic (0-100) to the canary. The
	// analysis runs while the step holds.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	SetWeight *int32 `json:"setWeight,omitempty"`

	// Pause holds the release at the current weight.
	// +optional
	Pause *Pause `json:"pause,omitempty"`
}

// CanaryHookType says when a Canary hook runs. There is no hook "at each
// analysis": a test that must gate every step belongs in analysis.metrics (a
// query) or in a confirm-promotion hook; the value "rollout", accepted by
// earlier versions but never run, is refused.
// +kubebuilder:validation:Enum=pre-rollout;confirm-promotion;post-rollout;rollback
type CanaryHookType string

// Canary hook types.
const (
	HookPreRollout       CanaryHookType = "pre-rollout"
	HookConfirmPromotion CanaryHookType = "confirm-promotion"
	HookPostRollout      CanaryHookType = "post-rollout"
	HookRollback         CanaryHookType = "rollback"
)

// CanaryHook is a test or gate run at a point of a Canary release.
type CanaryHook struct {
	// Name of the hook, unique within the Canary.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Type says when it runs: pre-rollout (before any traffic),
	// confirm-promotion (gate before promotion), post-rollout (after
	// promotion) or rollback (after a rollback).
	// +required
	Type CanaryHookType `json:"type"`

	HookAction `json:",inline"`
}

// CanarySpec is the desired release behaviour of a workload.
// +kubebuilder:validation:XValidation:rule="self.steps.filter(s, has(s.setWeight)).size() > 0",message="steps need at least one setWeight step"
// +kubebuilder:validation:XValidation:rule="self.steps.filter(s, has(s.setWeight)).map(s, s.setWeight).isSorted()",message="setWeight values must increase from step to step"
// +kubebuilder:validation:XValidation:rule="self.steps.filter(s, has(s.setWeight)).all(s, self.steps.filter(t, has(t.setWeight) && t.setWeight == s.setWeight).size() == 1)",message="setWeight values must be strictly increasing: a weight appears twice"
// +kubebuilder:validation:XValidation:rule="!has(self.hooks) || self.hooks.all(h, self.hooks.exists_one(g, g.name == h.name))",message="hook names must be unique"
type CanarySpec struct {
	// TargetRef is the user's Deployment, the template of each new version.
	// +required
	TargetRef TargetRef `json:"targetRef"`

	// Service describes the Services Sluice manages: <name> (apex, the one
	// clients call), <name>-primary and <name>-canary.
	// +required
	Service ServicePort `json:"service"`

	// TrafficRouting is how traffic is split.
	// +required
	TrafficRouting TrafficRouting `json:"trafficRouting"`

	// Steps of a release, in order. Weights start small and increase; after
	// the last step the canary is promoted.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +required
	Steps []CanaryStep `json:"steps"`

	// Analysis run while the canary receives traffic. Without it, steps
	// advance on time alone.
	// +optional
	Analysis *Analysis `json:"analysis,omitempty"`

	// Hooks run at points of the release.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Hooks []CanaryHook `json:"hooks,omitempty"`

	// ProgressDeadlineSeconds bounds how long the canary may take to become
	// ready, and a promotion to complete, before the release rolls back.
	// +kubebuilder:validation:Minimum=30
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=600
	// +optional
	ProgressDeadlineSeconds int32 `json:"progressDeadlineSeconds,omitempty"`
}

// CanaryStatus is the single source of truth of a Canary's release: a
// restarted operator resumes from it.
type CanaryStatus struct {
	// ObservedGeneration is the generation of the spec last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the release for display.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// StableRevision is the pod template hash the primary runs.
	// +optional
	StableRevision string `json:"stableRevision,omitempty"`

	// CanaryRevision is the pod template hash being released.
	// +optional
	CanaryRevision string `json:"canaryRevision,omitempty"`

	// CurrentStep is the index of the step in progress; len(steps) once every
	// step has passed.
	// +optional
	CurrentStep int32 `json:"currentStep,omitempty"`

	// StepsDigest identifies the spec.steps the release follows. When the
	// steps are edited mid-release, the release re-anchors at the step whose
	// weight does not exceed the weight in place and restarts its clock and
	// checks (see docs/canary.md).
	// +optional
	StepsDigest string `json:"stepsDigest,omitempty"`

	// HeldWeight, when set, caps the canary's weight: the steps were edited
	// so that every step asks for more than the weight then in place, and
	// the release holds that weight until a check passes under the new
	// steps; then the first step runs.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	HeldWeight *int32 `json:"heldWeight,omitempty"`

	// StepStartedAt is when the current step's clock started: once the router
	// reported the step's weight in place.
	// +optional
	StepStartedAt *metav1.Time `json:"stepStartedAt,omitempty"`

	// CanaryWeight is the weight the router reported for the canary.
	// +optional
	CanaryWeight int32 `json:"canaryWeight,omitempty"`

	// ReleaseStartedAt is when the current revision was detected.
	// +optional
	ReleaseStartedAt *metav1.Time `json:"releaseStartedAt,omitempty"`

	// PromotingAt is when promotion of the current revision began.
	// +optional
	PromotingAt *metav1.Time `json:"promotingAt,omitempty"`

	// PausedAt is when a pause command took effect; empty when not paused.
	// +optional
	PausedAt *metav1.Time `json:"pausedAt,omitempty"`

	// AbortedAt is when the current revision was rolled back; empty otherwise.
	// +optional
	AbortedAt *metav1.Time `json:"abortedAt,omitempty"`

	// AbortReason says why the revision was rolled back.
	// +optional
	AbortReason string `json:"abortReason,omitempty"`

	// Analysis is the state of the analysis of the current revision.
	// +optional
	Analysis *AnalysisStatus `json:"analysis,omitempty"`

	// Hooks are the hook runs of the current revision.
	// +optional
	// +listType=map
	// +listMapKey=name
	Hooks []HookStatus `json:"hooks,omitempty"`

	// LastCommand is the last manual command carried out.
	// +optional
	LastCommand *CommandStatus `json:"lastCommand,omitempty"`

	// Commands holds the last command of each kind carried out (or refused),
	// by name: each kind has its own annotation, so none is lost to another.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Commands []CommandStatus `json:"commands,omitempty"`

	// History holds the last decisions, newest last.
	// +optional
	// +listType=atomic
	History []DecisionRecord `json:"history,omitempty"`

	// Conditions: Ready, Reconciling, Stalled and Promoted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Canary releases a new version of a Deployment to a growing share of live
// traffic, analyses it at every step and promotes or rolls back on its own.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=can;cnry,categories=sluice;all
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.status.canaryWeight`
// +kubebuilder:printcolumn:name="Step",type=integer,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Canary struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired release behaviour.
	// +required
	Spec CanarySpec `json:"spec"`

	// Status is the observed state of the release.
	// +optional
	Status CanaryStatus `json:"status,omitempty"`
}

// CanaryList is a list of Canaries.
// +kubebuilder:object:root=true
type CanaryList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the Canaries.
	Items []Canary `json:"items"`
}
