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
// +kubebuilder:validation:XValidation:rule="!has(self.routes) || size(self.routes) == 0 || (has(self.name) && size(self.name) > 0)",message="routes pick the routes Sluice manages in a VirtualService you own: set virtualService.name to it, or remove routes (a generated VirtualService has one route)"
// +kubebuilder:validation:XValidation:rule="!has(self.name) || size(self.name) == 0 || ((!has(self.hosts) || size(self.hosts) == 0) && (!has(self.gateways) || size(self.gateways) == 0))",message="hosts and gateways describe a VirtualService Sluice generates; with virtualService.name the VirtualService is yours: set its hosts and gateways there and remove them here"
type IstioVirtualService struct {
	// Name of an existing VirtualService in this namespace. When set, Sluice
	// changes only the weights of the routes it manages in it; the rest of
	// the object stays yours. When empty, Sluice generates a VirtualService
	// named after the target and owns it. At most 253 characters; no
	// default.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Name string `json:"name,omitempty"`

	// Routes are the names of the HTTP routes Sluice manages in a named
	// VirtualService. When empty, Sluice manages every HTTP route whose
	// destinations are the primary and canary Services. Only with Name; at
	// most 32. No default.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Routes []string `json:"routes,omitempty"`

	// Hosts of a generated VirtualService (not with Name), at most 32.
	// Defaults to the apex Service.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Hosts []string `json:"hosts,omitempty"`

	// Gateways of a generated VirtualService (not with Name), at most 32.
	// Defaults to the mesh.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Gateways []string `json:"gateways,omitempty"`
}

// GatewayAPIRouting configures the Gateway API router.
type GatewayAPIRouting struct {
	// HTTPRoute that carries the weights: one the user owns (name), or one
	// Sluice generates and owns (parentRefs).
	// +required
	HTTPRoute GatewayAPIHTTPRoute `json:"httpRoute"`
}

// GatewayAPIHTTPRoute names or describes the HTTPRoute
// (gateway.networking.k8s.io/v1) that splits the traffic.
// +kubebuilder:validation:XValidation:rule="(has(self.name) && size(self.name) > 0) != (has(self.parentRefs) && size(self.parentRefs) > 0)",message="set exactly one of httpRoute.name (an HTTPRoute you own, Sluice changes only its weights) or httpRoute.parentRefs (Sluice generates the HTTPRoute)"
// +kubebuilder:validation:XValidation:rule="!has(self.rules) || size(self.rules) == 0 || (has(self.name) && size(self.name) > 0)",message="rules pick the rules Sluice manages in an HTTPRoute you own: set httpRoute.name to it, or remove rules (a generated HTTPRoute has one rule)"
// +kubebuilder:validation:XValidation:rule="!has(self.hostnames) || size(self.hostnames) == 0 || (has(self.parentRefs) && size(self.parentRefs) > 0)",message="hostnames describe an HTTPRoute Sluice generates; with httpRoute.name the HTTPRoute is yours: set its hostnames there and remove them here"
type GatewayAPIHTTPRoute struct {
	// Name of an existing HTTPRoute in this namespace. When set, Sluice
	// changes only the backendRefs weights of the rules it manages in it;
	// the rest of the object stays yours. At most 253 characters; no
	// default. Set either name or parentRefs.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Name string `json:"name,omitempty"`

	// Rules are the names of the rules Sluice manages in a named HTTPRoute.
	// When empty, Sluice manages every rule whose backendRefs are exactly the
	// primary and canary Services. Only with name; at most 16. No default.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Rules []string `json:"rules,omitempty"`

	// ParentRefs of the HTTPRoute Sluice generates, named after the target
	// and owned by the object: a Gateway (north-south: Traefik, Envoy
	// Gateway, Istio's or Contour's gateways) or the apex Service (the mesh
	// case, GAMMA: Linkerd, Istio). At most 16. No default.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	ParentRefs []GatewayParentRef `json:"parentRefs,omitempty"`

	// Hostnames of a generated HTTPRoute (only with parentRefs), at most 16.
	// Defaults to none: every hostname the parent accepts.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	// +optional
	Hostnames []string `json:"hostnames,omitempty"`
}

// GatewayParentRef is a parent of a generated HTTPRoute: a Gateway, or a
// Service for the mesh (GAMMA).
type GatewayParentRef struct {
	// Kind of the parent: Gateway (group gateway.networking.k8s.io) or
	// Service (the core group; the mesh case). Defaults to Gateway.
	// +kubebuilder:validation:Enum=Gateway;Service
	// +kubebuilder:default=Gateway
	// +optional
	Kind string `json:"kind,omitempty"`

	// Namespace of the parent. Defaults to the object's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the parent, 1 to 253 characters. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// SectionName is the name of a Gateway listener (or a Service port
	// name). Defaults to none: every listener.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SectionName string `json:"sectionName,omitempty"`

	// Port of the parent (a Gateway listener's or the Service's port), 1 to
	// 65535. Defaults to none.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// Pause holds a release. With a duration it ends by itself; without one
// (pause: {}) it waits for a manual promote.
type Pause struct {
	// Duration of the pause, from 1s to 24h, for example 30s or 5m. Leave it
	// out (pause: {}) to wait for a promote command; an empty string or 0s
	// is refused. No default.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('24h')",message="pause duration must be a duration between 1s and 24h, such as 30s or 5m; to wait for a promote command write pause: {}"
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// CanaryStep is one step of a release: set a weight, or pause.
// +kubebuilder:validation:XValidation:rule="(has(self.setWeight) ? 1 : 0) + (has(self.pause) ? 1 : 0) == 1",message="each step sets exactly one of setWeight or pause"
type CanaryStep struct {
	// SetWeight sends this percentage of traffic (0 to 100) to the canary.
	// The analysis runs while the step holds. No default.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	SetWeight *int32 `json:"setWeight,omitempty"`

	// Pause holds the release at the current weight. No default.
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
	// Name of the hook, a DNS label of 1 to 63 characters, unique within the
	// Canary. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Type says when it runs: pre-rollout (before any traffic),
	// confirm-promotion (gate before promotion), post-rollout (after
	// promotion) or rollback (after a rollback). No default.
	// +required
	Type CanaryHookType `json:"type"`

	HookAction `json:",inline"`
}

// CanarySpec is the desired release behaviour of a workload.
// +kubebuilder:validation:XValidation:rule="self.steps.filter(s, has(s.setWeight)).size() > 0",message="steps need at least one setWeight step"
// +kubebuilder:validation:XValidation:rule="self.steps.all(i, s, !has(s.setWeight) || self.steps.all(j, t, j >= i || !has(t.setWeight) || t.setWeight < s.setWeight))",message="setWeight values must strictly increase from step to step",messageExpression="self.steps.transformList(i, s, has(s.setWeight) && self.steps.exists(j, t, j < i && has(t.setWeight) && t.setWeight >= s.setWeight), 'setWeight values must strictly increase from step to step: steps[%d].setWeight is %d, not above the %d of an earlier step; set it above %d or remove steps[%d]'.format([i, s.setWeight, self.steps.transformList(j, t, j < i && has(t.setWeight), t.setWeight).max(), self.steps.transformList(j, t, j < i && has(t.setWeight), t.setWeight).max(), i]))[0]"
type CanarySpec struct {
	// TargetRef is the user's Deployment, the template of each new version.
	// It may be created after the Canary: the Canary waits for it.
	// +required
	TargetRef TargetRef `json:"targetRef"`

	// Service describes the Services Sluice manages: <name> (apex, the one
	// clients call), <name>-primary and <name>-canary.
	// +required
	Service ServicePort `json:"service"`

	// TrafficRouting is how traffic is split.
	// +required
	TrafficRouting TrafficRouting `json:"trafficRouting"`

	// Steps of a release, in order, 1 to 32. Weights start small and
	// strictly increase; after the last step the canary is promoted. No
	// default.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +required
	Steps []CanaryStep `json:"steps"`

	// Analysis run while the canary receives traffic. No default: without
	// it, steps advance on time alone.
	// +optional
	Analysis *Analysis `json:"analysis,omitempty"`

	// Hooks run at points of the release, at most 16, each name once. No
	// default.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Hooks []CanaryHook `json:"hooks,omitempty"`

	// DrainDelay is how long the canary keeps its pods after the router
	// reports that it carries no traffic any more (after a promotion, a
	// rollback or a canceled release), so that requests already sent to it
	// finish and every proxy has dropped its endpoints before they go.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('1h')",message="drainDelay must be between 0s and 1h"
	// +kubebuilder:default="10s"
	// +optional
	DrainDelay *metav1.Duration `json:"drainDelay,omitempty"`

	// ProgressDeadlineSeconds bounds how long the canary may take to become
	// ready, and a promotion to complete, before the release rolls back. 30
	// to 86400; defaults to 600.
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

	// ReleaseStatus is the status block every release keeps.
	ReleaseStatus `json:",inline"`

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

	// Step is the step in progress counted from 1 with the number of steps,
	// for example 2/6, for display; empty when no release is in flight.
	// Derived from currentStep; nothing decides on it.
	// +optional
	Step string `json:"step,omitempty"`

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

	// CanaryWeight is the weight the router reported for the canary; 0 at
	// rest and after a rollback (defaulted, so that kubectl get shows the
	// 0 rather than nothing).
	// +kubebuilder:default=0
	// +optional
	CanaryWeight int32 `json:"canaryWeight,omitempty"`

	// CanaryFullAt is when, during a promotion, the router reported 100% of
	// the traffic on the canary with every canary pod ready at the primary's
	// size. Only from then on does the primary take the new template, so
	// that no pod serving traffic is ever changed. It stays set after a
	// rollback from that point: the primary must then get its stable
	// template back, ready, before traffic returns to it.
	// +optional
	CanaryFullAt *metav1.Time `json:"canaryFullAt,omitempty"`

	// DrainStartedAt is when the router reported no traffic on the canary
	// while the canary still ran pods: after a promotion (the primary ready
	// with the new revision), a rollback or a canceled release. The canary
	// is scaled to zero drainDelay later.
	// +optional
	DrainStartedAt *metav1.Time `json:"drainStartedAt,omitempty"`
}

// Canary releases a new version of a Deployment to a growing share of live
// traffic, analyses it at every step and promotes or rolls back on its own.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=can;cnry,categories=sluice;all
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`,description="One-word summary of the release"
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.step`,description="Step in progress of the number of steps, such as 2/6"
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.status.canaryWeight`,description="Percentage of traffic on the canary"
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.canaryRevision`,description="Revision under test (the pod template hash)"
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,description="What the release does or waits for, or why it stopped"
// +kubebuilder:printcolumn:name="Stable",type=string,JSONPath=`.status.stableRevision`,priority=1,description="Revision the primary runs"
// +kubebuilder:printcolumn:name="Since",type=date,JSONPath=`.status.conditions[?(@.type=="Ready")].lastTransitionTime`,priority=1,description="Last change of the Ready condition"
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
