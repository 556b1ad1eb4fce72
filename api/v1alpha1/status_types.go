package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types. Ready, Reconciling and Stalled follow kstatus, so Flux,
// Argo CD and `kubectl wait` read them without custom code.
const (
	// ConditionReady is True when the stable version serves all traffic and
	// nothing is in flight.
	ConditionReady = "Ready"
	// ConditionReconciling is True while a release is in flight; its reason
	// says what Sluice is waiting for.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when Sluice cannot make progress without a
	// change from a person: an invalid spec, a missing object, a rollback.
	ConditionStalled = "Stalled"
	// ConditionPromoted is True once the latest revision has been promoted.
	ConditionPromoted = "Promoted"
	// ConditionHandedBack is set only once the object is being deleted: False
	// while the finalizer waits for the user's Deployment to be ready at full
	// size, True once the traffic was handed back to it (its
	// lastTransitionTime starts the drain before the finalizer is removed).
	ConditionHandedBack = "HandedBack"
)

// Condition reasons, PascalCase as Kubernetes expects.
const (
	ReasonInitializing        = "Initializing"
	ReasonSucceeded           = "Succeeded"
	ReasonProgressing         = "Progressing"
	ReasonWaitingForReady     = "WaitingForReady"
	ReasonWaitingForWeight    = "WaitingForWeight"
	ReasonAnalysing           = "Analysing"
	ReasonWaitingForPromotion = "WaitingForPromotion"
	ReasonPaused              = "Paused"
	ReasonPromoting           = "Promoting"
	ReasonRolledBack          = "RolledBack"
	ReasonAborted             = "Aborted"
	ReasonProgressDeadline    = "ProgressDeadlineExceeded"
	ReasonAnalysisFailed      = "AnalysisFailed"
	ReasonHookFailed          = "HookFailed"
	ReasonProviderUnavailable = "ProviderUnavailable"
	ReasonInvalidSpec         = "InvalidSpec"
	ReasonTargetNotFound      = "TargetNotFound"
	// ReasonWaitingForTarget: the target Deployment does not exist yet
	// (under GitOps the release object often comes first). Reconciling,
	// not Stalled: creating the Deployment is all it takes.
	ReasonWaitingForTarget  = "WaitingForTarget"
	ReasonRouteNotFound     = "RouteNotFound"
	ReasonRouteUnmanageable = "RouteUnmanageable"
	// ReasonRouteNotAccepted: the implementation serving a Gateway API
	// route has not confirmed its current generation (Accepted and
	// ResolvedRefs for every parent), or refused it; the message quotes it.
	ReasonRouteNotAccepted = "RouteNotAccepted"
	// ReasonObjectNotOwned: an object Sluice would create (a Deployment,
	// a Service, a route) already exists and is not Sluice's; Sluice does
	// not adopt it. Stalled until it is renamed or deleted.
	ReasonObjectNotOwned    = "ObjectNotOwned"
	ReasonHandingBack       = "HandingBack"
	ReasonTrafficHandedBack = "TrafficHandedBack"
)

// Annotations through which people and tools steer a release. Each kind of
// command has its own annotation, whose value is the command's ID: a command
// is carried out once per ID, and a later command of another kind never
// overwrites a pending one (a promote written after an abort leaves the abort
// in place). status.commands records the last ID of each kind carried out.
const (
	// AnnotationCommandPrefix starts the annotation of every command: the
	// key of a command is the prefix followed by its name, for example
	// rollouts.sluice.dev/command.abort.
	AnnotationCommandPrefix = "rollouts.sluice.dev/command."
	// AnnotationCommandBySuffix ends the optional annotation that names who
	// gave a command, as the client reports it, for example
	// rollouts.sluice.dev/command.abort.by. Sluice copies it into status and
	// history; the API server's audit log is the authoritative record.
	AnnotationCommandBySuffix = ".by"
)

// CommandAnnotation is the annotation that carries the ID of a command.
func CommandAnnotation(c Command) string { return AnnotationCommandPrefix + string(c) }

// CommandByAnnotation is the annotation that names who gave a command.
func CommandByAnnotation(c Command) string { return CommandAnnotation(c) + AnnotationCommandBySuffix }

// Command is a manual instruction to a release.
type Command string

const (
	// CommandPromote ends the current step or pause now.
	CommandPromote Command = "promote"
	// CommandPromoteFull skips the remaining steps and promotes.
	CommandPromoteFull Command = "promote-full"
	// CommandPromoteOverride promotes fully although a check of the release
	// failed: the only command that overrides a failed check, recorded in
	// history with who gave it. A rolled-back release is not promoted by it.
	CommandPromoteOverride Command = "promote-override"
	// CommandAbort rolls back now. It takes precedence over every other
	// command pending at the same time.
	CommandAbort Command = "abort"
	// CommandPause holds the release where it is.
	CommandPause Command = "pause"
	// CommandResume lifts a pause.
	CommandResume Command = "resume"
	// CommandRetry starts a rolled-back revision again.
	CommandRetry Command = "retry"
)

// Commands lists every command, in the order Sluice carries out commands
// pending at the same time when their IDs tie: abort first.
var Commands = []Command{CommandAbort, CommandPause, CommandResume, CommandRetry, CommandPromote,
	CommandPromoteFull, CommandPromoteOverride}

// Phase is a one-word summary of a release for display. It is derived from
// the rest of status on every update; nothing decides on it.
type Phase string

// Phases shown in `kubectl get`.
const (
	PhaseInitializing     Phase = "Initializing"
	PhaseStable           Phase = "Stable"
	PhaseProgressing      Phase = "Progressing"
	PhasePaused           Phase = "Paused"
	PhaseWaitingPromotion Phase = "WaitingPromotion"
	PhasePromoting        Phase = "Promoting"
	PhaseRolledBack       Phase = "RolledBack"
	PhaseInvalid          Phase = "Invalid"
	// PhaseWaitingForTarget: the target Deployment does not exist yet.
	PhaseWaitingForTarget Phase = "WaitingForTarget"
)

// MetricOutcome is the result of one check.
type MetricOutcome string

const (
	// OutcomePassed means the value was inside the threshold range.
	OutcomePassed MetricOutcome = "Passed"
	// OutcomeFailed means the value was outside the threshold range.
	OutcomeFailed MetricOutcome = "Failed"
	// OutcomeNoData means there was no value or too small a sample: hold.
	OutcomeNoData MetricOutcome = "NoData"
	// OutcomeError means the provider could not answer: hold.
	OutcomeError MetricOutcome = "Error"
)

// MetricResult is the latest result of one check.
type MetricResult struct {
	// Name of the metric.
	Name string `json:"name"`
	// Outcome of the check.
	Outcome MetricOutcome `json:"outcome"`
	// Value the query returned, as text (it may be NaN or Inf).
	// +optional
	Value string `json:"value,omitempty"`
	// Message explains the outcome, with the range it was compared to.
	// +optional
	Message string `json:"message,omitempty"`
	// Time of the check.
	Time metav1.Time `json:"time"`
}

// CounterSample is a pair of counts: requests and the events among them
// (errors, or requests slower than a bound).
type CounterSample struct {
	// Requests counted.
	Requests int64 `json:"requests"`
	// Events counted among those requests.
	Events int64 `json:"events"`
}

// JudgeDecision is the judge's verdict so far.
type JudgeDecision string

const (
	// JudgeContinue means the evidence is not yet conclusive.
	JudgeContinue JudgeDecision = "Continue"
	// JudgeRollback means the canary is worse than the primary beyond
	// tolerance, at the stated error rate.
	JudgeRollback JudgeDecision = "Rollback"
	// JudgePromote means the canary is within tolerance with enough evidence.
	JudgePromote JudgeDecision = "Promote"
)

// JudgeMetricStatus is the running evidence on one counter (errors or slow
// requests). It is everything the judge needs to resume after a restart.
type JudgeMetricStatus struct {
	// Name of the counter: errors or slowRequests.
	Name string `json:"name"`
	// LastCanary and LastPrimary are the cumulative counters last read; the
	// next reading is compared with them (a drop is a counter reset).
	// +optional
	LastCanary *CounterSample `json:"lastCanary,omitempty"`
	// +optional
	LastPrimary *CounterSample `json:"lastPrimary,omitempty"`
	// Canary and Primary add up what was observed since the judge started.
	Canary CounterSample `json:"canary"`
	// +optional
	Primary CounterSample `json:"primary"`
	// Observations is how many readings contributed evidence.
	// +optional
	Observations int32 `json:"observations,omitempty"`
	// LogRollback holds, for each alternative of the judge's grid, the log of
	// the likelihood ratio against "canary within tolerance".
	// +optional
	// +listType=atomic
	LogRollback []float64 `json:"logRollback,omitempty"`
	// LogPromotion holds the log likelihood ratios for "canary within
	// tolerance" against a clear regression.
	// +optional
	// +listType=atomic
	LogPromotion []float64 `json:"logPromotion,omitempty"`
	// RollbackEvidence is the current e-value for a regression; the judge
	// rolls back when it reaches the threshold.
	// +optional
	RollbackEvidence float64 `json:"rollbackEvidence,omitempty"`
	// PromotionEvidence is the current e-value for "within tolerance".
	// +optional
	PromotionEvidence float64 `json:"promotionEvidence,omitempty"`
}

// JudgeStatus is the statistical judge's state and verdict.
type JudgeStatus struct {
	// Decision so far.
	Decision JudgeDecision `json:"decision"`
	// Fingerprint identifies the judge spec the evidence was gathered under
	// (JudgeFingerprint). Evidence under another fingerprint is discarded,
	// never mixed: editing the judge's mode, tolerance, alpha, queries or
	// provider restarts it.
	// +optional
	Fingerprint string `json:"fingerprint,omitempty"`
	// Threshold is the evidence needed for a decision (1/alpha per counter).
	// +optional
	Threshold float64 `json:"threshold,omitempty"`
	// Summary in words, for example "canary error rate 2.1x primary;
	// evidence 38 of 40 needed".
	// +optional
	Summary string `json:"summary,omitempty"`
	// Metrics holds the evidence per counter.
	// +optional
	// +listType=map
	// +listMapKey=name
	Metrics []JudgeMetricStatus `json:"metrics,omitempty"`
	// Series holds the last value read of each series of the judge's
	// queries, so that a counter reset or a missing series is handled per
	// series, not on their sum. At most MaxJudgeSeries per query and version.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=192
	Series []JudgeSeries `json:"series,omitempty"`
}

// MaxJudgeSeries bounds the series the judge remembers per query and
// version; a query returning more is a provider error (aggregate it, for
// example with sum by (pod)).
const MaxJudgeSeries = 32

// JudgeSeries is the last value read of one series of one judge query.
type JudgeSeries struct {
	// Query is requests, errors or slowRequests.
	Query string `json:"query"`
	// Version is canary or primary.
	Version string `json:"version"`
	// Key identifies the series: a hash of its label set.
	Key string `json:"key"`
	// Value is the counter's last value.
	Value int64 `json:"value"`
}

// AnalysisStatus is the state of the analysis of the current revision.
type AnalysisStatus struct {
	// Checks run since the release (or the current phase of it) started.
	// +optional
	Checks int32 `json:"checks,omitempty"`
	// Passed counts the checks that passed. Added for BlueGreen: a phase
	// analysis (prePromotionAnalysis, postPromotionAnalysis) completes after
	// `checks` passing checks, and no-data or provider-error checks must not
	// count towards them.
	// +optional
	Passed int32 `json:"passed,omitempty"`
	// Failures counted against failureLimit.
	// +optional
	Failures int32 `json:"failures,omitempty"`
	// ConsecutiveErrors counts checks in a row that the provider could not
	// answer, against errorLimit.
	// +optional
	ConsecutiveErrors int32 `json:"consecutiveErrors,omitempty"`
	// LastCheckAt is when the last check ran; the next is due an interval
	// later.
	// +optional
	LastCheckAt *metav1.Time `json:"lastCheckAt,omitempty"`
	// Results of the last check, one per metric.
	// +optional
	// +listType=map
	// +listMapKey=name
	Results []MetricResult `json:"results,omitempty"`
	// Judge is the statistical judge's state.
	// +optional
	Judge *JudgeStatus `json:"judge,omitempty"`
}

// CommandStatus records the last manual command carried out.
type CommandStatus struct {
	// Name of the command.
	Name Command `json:"name"`
	// ID of the command: the value of its annotation.
	// +optional
	ID string `json:"id,omitempty"`
	// By names who gave the command, as the client reported it in the
	// command's .by annotation; empty when it did not say.
	// +optional
	By string `json:"by,omitempty"`
	// ProcessedAt is when Sluice acted on it.
	ProcessedAt metav1.Time `json:"processedAt"`
	// Message says what the command did, or why it did nothing.
	// +optional
	Message string `json:"message,omitempty"`
}

// DecisionRecord is one entry of the audit trail: a decision Sluice took and
// the values that drove it.
type DecisionRecord struct {
	// Time of the decision.
	Time metav1.Time `json:"time"`
	// Reason is the kind of decision, such as StepAdvanced or RolledBack.
	Reason string `json:"reason"`
	// Revision the decision was about.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Step index at the time.
	// +optional
	Step int32 `json:"step,omitempty"`
	// Weight of the new version at the time.
	// +optional
	Weight int32 `json:"weight,omitempty"`
	// Message with the values behind the decision.
	// +optional
	Message string `json:"message,omitempty"`
}

// MaxDecisionRecords is how many decisions status keeps, newest last.
const MaxDecisionRecords = 10
