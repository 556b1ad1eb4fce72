package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Color is one of the two identical environments of a BlueGreen.
// +kubebuilder:validation:Enum=blue;green
type Color string

// The two colors.
const (
	ColorBlue  Color = "blue"
	ColorGreen Color = "green"
)

// Other returns the other color.
func (c Color) Other() Color {
	if c == ColorBlue {
		return ColorGreen
	}
	return ColorBlue
}

// BlueGreenHookType says when a BlueGreen hook runs.
// +kubebuilder:validation:Enum=pre-promotion;post-promotion;rollback
type BlueGreenHookType string

// BlueGreen hook types.
const (
	HookPrePromotion  BlueGreenHookType = "pre-promotion"
	HookPostPromotion BlueGreenHookType = "post-promotion"
	HookBlueGreenBack BlueGreenHookType = "rollback"
)

// BlueGreenHook is a test run against the new color.
type BlueGreenHook struct {
	// Name of the hook, a DNS label of 1 to 63 characters, unique within the
	// BlueGreen. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Type says when it runs: pre-promotion (against the preview Service,
	// before the flip; a failure leaves traffic where it is), post-promotion
	// (after the flip; a failure flips back) or rollback (after a flip back).
	// No default.
	// +required
	Type BlueGreenHookType `json:"type"`

	HookAction `json:",inline"`
}

// PhaseAnalysis is an analysis that runs for a fixed number of checks, before
// or after the flip.
// +kubebuilder:validation:XValidation:rule="!has(self.judge) || !has(self.judge.promoteOnEvidence) || !self.judge.promoteOnEvidence",message="judge.promoteOnEvidence ends Canary steps early and has no effect here: a BlueGreen phase completes after its passing checks; remove it (or lower checks)"
type PhaseAnalysis struct {
	Analysis `json:",inline"`

	// Checks is the number of passing checks needed to complete, 1 to 1000.
	// Defaults to 3.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=3
	// +optional
	Checks int32 `json:"checks,omitempty"`
}

// BlueGreenSpec is the desired release behaviour of a workload that must not
// run two versions behind one Service.
// +kubebuilder:validation:XValidation:rule="!has(self.autoPromotionSeconds) || !has(self.autoPromotion) || !self.autoPromotion",message="autoPromotionSeconds applies only with autoPromotion: false (a manual promote, or this many seconds)"
type BlueGreenSpec struct {
	// TargetRef is the user's Deployment, the template of each new version.
	// It may be created after the BlueGreen: the BlueGreen waits for it.
	// +required
	TargetRef TargetRef `json:"targetRef"`

	// Service describes the Services Sluice manages: <name> (active, the one
	// clients call) and <name>-preview (the new color, for tests).
	// +required
	Service ServicePort `json:"service"`

	// TrafficRouting, when set, flips the traffic on a route instead of the
	// active Service's selector: an Istio VirtualService or a Gateway API
	// HTTPRoute (the same shape as a Canary's trafficRouting) whose managed
	// routes send 100 to one color's Service (<name>-blue or <name>-green,
	// which Sluice creates) and 0 to the other. The flip is one write of
	// the weights, read back (for an HTTPRoute, accepted by its
	// implementation at the route's generation) before the release moves
	// on; the active and preview Services follow the route. No default:
	// without it, the active Service's selector flips.
	// +optional
	TrafficRouting *TrafficRouting `json:"trafficRouting,omitempty"`

	// AutoPromotion flips traffic as soon as the pre-promotion checks pass.
	// With false, the release waits for a manual promote (or for
	// autoPromotionSeconds). Defaults to true.
	// +kubebuilder:default=true
	// +optional
	AutoPromotion *bool `json:"autoPromotion,omitempty"`

	// AutoPromotionSeconds promotes this long after the pre-promotion checks
	// passed, when autoPromotion is false and nobody promoted before. 0 to
	// 604800 (a week); no default: without it, only a promote command
	// promotes.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=604800
	// +optional
	AutoPromotionSeconds *int32 `json:"autoPromotionSeconds,omitempty"`

	// PrePromotionAnalysis runs against the new color before the flip. No
	// default: without it (and without pre-promotion hooks) the flip follows
	// readiness.
	// +optional
	PrePromotionAnalysis *PhaseAnalysis `json:"prePromotionAnalysis,omitempty"`

	// PostPromotionAnalysis runs after the flip; a failure flips back. No
	// default.
	// +optional
	PostPromotionAnalysis *PhaseAnalysis `json:"postPromotionAnalysis,omitempty"`

	// Hooks are tests run before and after the flip, at most 16, each name
	// once. No default.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Hooks []BlueGreenHook `json:"hooks,omitempty"`

	// ScaleDownDelay is how long the old color keeps running after a
	// successful flip, so that reverting is one more flip. A duration from
	// 0s to 168h; defaults to 30s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('0s') && duration(self) <= duration('168h')",message="scaleDownDelay must be a duration between 0s and 168h, such as 30s or 10m"
	// +kubebuilder:default="30s"
	// +optional
	ScaleDownDelay *metav1.Duration `json:"scaleDownDelay,omitempty"`

	// ProgressDeadlineSeconds bounds how long the new color may take to
	// become ready before the release fails. 30 to 86400; defaults to 600.
	// +kubebuilder:validation:Minimum=30
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=600
	// +optional
	ProgressDeadlineSeconds int32 `json:"progressDeadlineSeconds,omitempty"`
}

// BlueGreenStatus is the single source of truth of a BlueGreen's release.
type BlueGreenStatus struct {
	// ObservedGeneration is the generation of the spec last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the release for display.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// ReleaseStatus is the status block every release keeps.
	ReleaseStatus `json:",inline"`

	// ActiveColor is the color the active Service selects.
	// +optional
	ActiveColor Color `json:"activeColor,omitempty"`

	// ActiveRevision is the pod template hash of the active color.
	// +optional
	ActiveRevision string `json:"activeRevision,omitempty"`

	// PreviewRevision is the pod template hash being released on the idle
	// color; empty when nothing is in flight.
	// +optional
	PreviewRevision string `json:"previewRevision,omitempty"`

	// PreviewReadyAt is when the new color became ready.
	// +optional
	PreviewReadyAt *metav1.Time `json:"previewReadyAt,omitempty"`

	// PrePromotionPassedAt is when the pre-promotion checks passed.
	// +optional
	PrePromotionPassedAt *metav1.Time `json:"prePromotionPassedAt,omitempty"`

	// Route says which route object carries the traffic (only with
	// spec.trafficRouting) and the color it was read back sending all the
	// traffic to; empty liveColor with a message while it was not.
	// +optional
	Route *BlueGreenRouteStatus `json:"route,omitempty"`

	// SwitchedAt is when the active Service flipped to the new color.
	// +optional
	SwitchedAt *metav1.Time `json:"switchedAt,omitempty"`

	// ScaleDownAt is when the old color is scaled down.
	// +optional
	ScaleDownAt *metav1.Time `json:"scaleDownAt,omitempty"`
}

// BlueGreenRouteStatus is what the route of a BlueGreen with trafficRouting
// was read back carrying.
type BlueGreenRouteStatus struct {
	// Kind of the route object: VirtualService or HTTPRoute.
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the route object, in the BlueGreen's namespace.
	// +optional
	Name string `json:"name,omitempty"`

	// LiveColor is the color every managed route was read back sending all
	// the traffic to (for an HTTPRoute, accepted by its implementation at
	// the route's current generation); empty when the route is missing,
	// splits the traffic, or was not accepted.
	// +optional
	LiveColor Color `json:"liveColor,omitempty"`

	// Message says why no color was read back, quoting the route's
	// implementation when it refused the route.
	// +optional
	Message string `json:"message,omitempty"`
}

// BlueGreen releases a new version on an idle copy of a Deployment, tests it
// in isolation, then flips the live Service to it in one write.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bg,categories=sluice;all
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`,description="One-word summary of the release"
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeColor`,description="Color the active Service selects"
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.previewRevision`,description="Revision under test on the idle color (the pod template hash)"
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,description="What the release does or waits for, or why it stopped"
// +kubebuilder:printcolumn:name="Stable",type=string,JSONPath=`.status.activeRevision`,priority=1,description="Revision the active color runs"
// +kubebuilder:printcolumn:name="Since",type=date,JSONPath=`.status.conditions[?(@.type=="Ready")].lastTransitionTime`,priority=1,description="Last change of the Ready condition"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BlueGreen struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired release behaviour.
	// +required
	Spec BlueGreenSpec `json:"spec"`

	// Status is the observed state of the release.
	// +optional
	Status BlueGreenStatus `json:"status,omitempty"`
}

// BlueGreenList is a list of BlueGreens.
// +kubebuilder:object:root=true
type BlueGreenList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the BlueGreens.
	Items []BlueGreen `json:"items"`
}
