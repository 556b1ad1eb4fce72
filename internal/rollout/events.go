package rollout

// Event types, the same strings as corev1.EventTypeNormal and
// corev1.EventTypeWarning (this package does not import k8s.io/api).
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// Event reasons. Each transition has its own, so that `kubectl get events`
// and alerts can tell them apart; rollbacks and failures are Warnings.
const (
	EventInitialized         = "Initialized"
	EventNewRevision         = "NewRevision"
	EventReleaseCanceled     = "ReleaseCanceled"
	EventStepAdvanced        = "StepAdvanced"
	EventAnalysisFailed      = "AnalysisFailed"
	EventProviderUnavailable = "ProviderUnavailable"
	EventPromoting           = "Promoting"
	EventTrafficOnCanary     = "TrafficOnCanary"
	EventDraining            = "Draining"
	EventPromoted            = "Promoted"
	EventRolledBack          = "RolledBack"
	EventHookSucceeded       = "HookSucceeded"
	EventHookFailed          = "HookFailed"
	EventCommandApplied      = "CommandApplied"
	EventCommandIgnored      = "CommandIgnored"
	EventTargetLost          = "TargetLost"
	// EventSpecChanged says how a release adapted to an edit of its spec
	// mid-release: steps re-anchored, a weight held, judge evidence dropped.
	EventSpecChanged = "SpecChanged"

	// BlueGreen transitions.
	EventPreviewReady       = "PreviewReady"
	EventPrePromotionPassed = "PrePromotionPassed"
	EventServiceSwitched    = "ServiceSwitched"
	EventSwitchedBack       = "SwitchedBack"
)

// Event is a Kubernetes Event the shell emits on the object. Next returns
// Events only for transitions, never for a state that merely persists; two
// transitions of one evaluation that a reader sees as one moment (the last
// step passed and the promotion began) are one Event, which says both (each
// Event is a request to the API server).
type Event struct {
	// Type is EventNormal or EventWarning.
	Type string
	// Reason is one of the Event reasons above.
	Reason string
	// Message says what happened, with the values behind it.
	Message string
}
