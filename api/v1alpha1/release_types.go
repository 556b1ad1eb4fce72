package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReleaseStatus is the block of status both kinds of release keep: the
// clocks every release has, its analysis and hook runs, the commands it was
// given, its audit trail and its conditions. CanaryStatus and BlueGreenStatus
// embed it inline, so its fields sit at the top of status as they always
// did, and one implementation of commands, hook gates, deadlines and history
// serves both kinds.
type ReleaseStatus struct {
	// Message says in a few words what the release does or waits for, or
	// why it stopped, for display (kubectl get). The conditions carry the
	// full story. Derived; nothing decides on it.
	// +optional
	Message string `json:"message,omitempty"`

	// ReleaseStartedAt is when the current revision was detected.
	// +optional
	ReleaseStartedAt *metav1.Time `json:"releaseStartedAt,omitempty"`

	// PromotingAt is when promotion of the current revision began: every
	// step or pre-promotion check passed, or a promote command was given.
	// From then on the release moves traffic to the new revision until the
	// router or the active Service reports it there.
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

	// PinnedAnalyses holds the analyses resolved from a template when the
	// current release started; they run to the end of the release whatever
	// happens to the template.
	// +optional
	// +listType=map
	// +listMapKey=field
	// +kubebuilder:validation:MaxItems=2
	PinnedAnalyses []PinnedAnalysis `json:"pinnedAnalyses,omitempty"`

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

	// Conditions: Ready, Reconciling, Stalled and Promoted; HandedBack once
	// the object is being deleted (False while the finalizer waits for the
	// target Deployment to be ready, True once the traffic moved to it).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
