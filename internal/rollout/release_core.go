package rollout

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// release is the part of one evaluation that Canary and BlueGreen share: the
// clock reading, the status block both kinds keep (v1alpha1.ReleaseStatus,
// pointing into the status being built), the events so far and the spec's
// hooks. Both machines embed it, so the rules written here (commands, hook
// gates, provider pauses, deadlines, rollbacks, the audit trail) are the
// same for both kinds by construction.
type release struct {
	now    metav1.Time
	rs     *v1alpha1.ReleaseStatus
	events []Event
	hooks  []specHook
	// deadline is spec.progressDeadlineSeconds, defaulted.
	deadline time.Duration
	// at says where the release stands for an audit record: the revision,
	// the step and the weight on the new revision.
	at func() (rev string, step, weight int32)
}

// newRelease starts the shared part of an evaluation on the status block rs.
func newRelease(now metav1.Time, rs *v1alpha1.ReleaseStatus, hooks []specHook, deadlineSeconds int32,
	at func() (string, int32, int32)) release {
	return release{now: now, rs: rs, hooks: hooks, deadline: progressDeadline(deadlineSeconds), at: at}
}

// progressDeadline is spec.progressDeadlineSeconds as a duration, the CRD's
// default when unset.
func progressDeadline(seconds int32) time.Duration {
	if seconds <= 0 {
		return DefaultProgressDeadline
	}
	return time.Duration(seconds) * time.Second
}

// progressDeadline is how long the release may take to get ready or to
// promote before it rolls back.
func (r *release) progressDeadline() time.Duration { return r.deadline }

// emit adds an event that is not a decision (it goes to no audit trail).
func (r *release) emit(typ, reason, msg string) {
	r.events = append(r.events, Event{Type: typ, Reason: reason, Message: msg})
}

// record emits an event and appends the same decision to the audit trail.
func (r *release) record(typ, reason, msg string) {
	r.emit(typ, reason, msg)
	rev, step, weight := r.at()
	r.rs.History = appendRecord(r.rs.History, decision(r.now, reason, rev, step, weight, msg))
}

// takeEvent removes the last event of this evaluation when it has reason and
// returns its message, so that the transition taken right after it can say
// both in one event; the audit trail keeps both records. Why: two Events
// that the same reconcile emits about one moment (the last step passed, so
// the promotion begins) tell a reader nothing the one does not, and each is
// a request to the API server (issue #18).
func (r *release) takeEvent(reason string) (string, bool) {
	n := len(r.events)
	if n == 0 || r.events[n-1].Reason != reason {
		return "", false
	}
	msg := r.events[n-1].Message
	r.events = r.events[:n-1]
	return msg, true
}

// foldIntoLast appends msg to the last event of this evaluation when that
// event has one of reasons, and reports whether it did (see takeEvent).
func (r *release) foldIntoLast(msg string, reasons ...string) bool {
	n := len(r.events)
	if n == 0 || !slices.Contains(reasons, r.events[n-1].Reason) {
		return false
	}
	r.events[n-1].Message += "; " + msg
	return true
}

// resetRelease clears the shared clocks, analysis and hook runs for a fresh
// release ("" for none), stamping releaseStartedAt for a new one.
func (r *release) resetRelease(rev string) {
	rs := r.rs
	rs.ReleaseStartedAt, rs.PromotingAt, rs.PausedAt = nil, nil, nil
	rs.AbortedAt, rs.AbortReason = nil, ""
	rs.Analysis, rs.Hooks = nil, nil
	if rev != "" {
		now := r.now
		rs.ReleaseStartedAt = &now
	}
}

// abort stamps abortedAt with its reason and ends any promotion or pause:
// a rolled-back revision neither promotes nor waits for a resume.
func (r *release) abort(reason string) {
	now := r.now
	r.rs.AbortedAt, r.rs.AbortReason = &now, reason
	r.rs.PromotingAt, r.rs.PausedAt = nil, nil
}

// abortReason is the condition reason of a rollback; status written by an
// older operator may lack one.
func abortReason(rs *v1alpha1.ReleaseStatus) string {
	if rs.AbortReason == "" {
		return v1alpha1.ReasonRolledBack
	}
	return rs.AbortReason
}

// providerPausedText is what a release paused for provider errors says, in
// its event and its conditions alike.
func providerPausedText(a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus) string {
	return "paused: the metric provider failed; " + analysisSummary(a, st) + "; fix the provider, then resume"
}

// providerPause pauses the release when the metric provider failed
// errorLimit checks in a row under analysis a. Why: a provider that cannot
// answer says nothing about the release, so no rollback and no promotion;
// but a person must know, and the release must not move.
func (r *release) providerPause(a *v1alpha1.Analysis) bool {
	if r.rs.PausedAt != nil || verdict(a, r.rs.Analysis) != VerdictPause {
		return false
	}
	now := r.now
	r.rs.PausedAt = &now
	r.record(EventWarning, EventProviderUnavailable, providerPausedText(a, r.rs.Analysis))
	return true
}

// takeCheck records a due check's results under analysis a; a failed check
// is a decision, recorded with label in front of the analysis summary.
func (r *release) takeCheck(c Check, a *v1alpha1.Analysis, label string) {
	r.rs.Analysis = applyCheck(r.rs.Analysis, c, r.now)
	if classify(c.Results, c.Judge) == v1alpha1.OutcomeFailed {
		r.record(EventWarning, EventAnalysisFailed, label+analysisSummary(a, r.rs.Analysis))
	}
}

// pauseNow holds the release where it is; where says where, for the answer.
func (r *release) pauseNow(where string) (string, bool) {
	if r.rs.PausedAt != nil {
		return "already paused", false
	}
	now := r.now
	r.rs.PausedAt = &now
	return "paused" + where, true
}

// resumeNow lifts a pause and returns how long it lasted. The provider error
// count restarts, so a pause for provider errors gives the provider
// errorLimit more tries.
func (r *release) resumeNow() (time.Duration, bool) {
	if r.rs.PausedAt == nil {
		return 0, false
	}
	paused := r.now.Sub(r.rs.PausedAt.Time)
	r.rs.PausedAt = nil
	if r.rs.Analysis != nil {
		r.rs.Analysis.ConsecutiveErrors = 0
	}
	return paused, true
}

// mergeHooks copies the shell's hook reports for rev into status, emitting
// an event when a run finishes. Why after the commands: a retry starts a new
// release, and a run started before it (StartedAt before releaseStartedAt)
// belongs to the earlier attempt and is ignored.
func (r *release) mergeHooks(reports []v1alpha1.HookStatus, rev string) {
	var finished []v1alpha1.HookStatus
	r.rs.Hooks, finished = mergeRuns(r.rs.Hooks, reports, rev, r.rs.ReleaseStartedAt,
		func(name string) bool { return hookKnown(r.hooks, name) })
	for _, h := range finished {
		if h.Phase == v1alpha1.HookFailed {
			r.record(EventWarning, EventHookFailed, fmt.Sprintf("%s hook %s failed: %s", h.Type, h.Name, h.Message))
		} else {
			r.emit(EventNormal, EventHookSucceeded, fmt.Sprintf("%s hook %s succeeded", h.Type, h.Name))
		}
	}
}

// gate reads where the spec's hooks of one type stand for rev.
func (r *release) gate(typ, rev string) hookGate {
	return gateOf(hookNames(r.hooks, typ), r.rs.Hooks, rev)
}

// hookFailure returns the reason and message of the first failed hook of
// type typ for rev, or "" when none failed. Why a failure: hooks are tests
// and gates of the release, not notifications.
func (r *release) hookFailure(typ, rev string) (string, string) {
	g := r.gate(typ, rev)
	if g.failed == "" {
		return "", ""
	}
	h := findHook(r.rs.Hooks, g.failed, rev)
	return v1alpha1.ReasonHookFailed, fmt.Sprintf("%s hook %s failed: %s", typ, g.failed, h.Message)
}

// startHookRuns records a Running run, started now, for each hook of type
// typ for rev that has not finished and has no run in this release attempt.
// Why in status: the run is the hook's memory (the webhook's attempts, the
// Job's start), so a restarted operator continues it instead of starting
// another.
func (r *release) startHookRuns(typ, rev string) {
	r.rs.Hooks = startRuns(r.rs.Hooks, typ, r.gate(typ, rev).pending, rev, r.now)
}
