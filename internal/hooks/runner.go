package hooks

import (
	"context"
	"errors"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// JobPollInterval is how long a reconciler waits before looking at a running
// Job again. The Job's owner reference also wakes the owner's reconciler when
// the Job changes (with Owns(&batchv1.Job{})), so this is only a safety net.
const JobPollInterval = 10 * time.Second

// Hook is one hook of a Canary or a BlueGreen, whatever its type.
type Hook struct {
	// Name of the hook in the spec.
	Name string
	// Type says when the hook runs (pre-rollout, pre-promotion, ...). It is
	// recorded in status, sent to webhooks and put on Jobs.
	Type string
	// Action is the webhook or the Job to run.
	Action v1alpha1.HookAction
}

// FromCanary returns the Hook of a Canary's spec.
func FromCanary(h v1alpha1.CanaryHook) Hook {
	return Hook{Name: h.Name, Type: string(h.Type), Action: h.HookAction}
}

// FromBlueGreen returns the Hook of a BlueGreen's spec.
func FromBlueGreen(h v1alpha1.BlueGreenHook) Hook {
	return Hook{Name: h.Name, Type: string(h.Type), Action: h.HookAction}
}

// Runner starts hook runs and reports their progress. The only state it
// keeps between calls is the webhook attempts in flight (see calls); one
// Runner serves every reconciler and every object, and must not be copied.
type Runner struct {
	// Client creates and reads Jobs. Its scheme must know the owner's kind.
	Client client.Client
	// Logs reads the log of a failed Job's pod for the run's message. When
	// nil, the message says only why the Job failed.
	Logs LogReader
	// HTTP calls webhooks. It must apply Sluice's outbound policy (build it
	// with outbound.Policy.HTTPClient); when nil, the default policy's client
	// is used. Each call is bounded by the hook's timeout.
	HTTP *http.Client
	// Policy decides which Job hooks may run; the zero value is the default
	// policy (see JobPolicy).
	Policy JobPolicy
	// Now is the clock. When nil, time.Now is used.
	Now func() time.Time
	// Await is how long Run waits for a webhook's answer before returning
	// the run as in flight (see DefaultAwait, used when zero).
	Await time.Duration

	calls calls
}

// Run makes progress on one hook run of owner (a Canary or a BlueGreen) for
// revision and returns the run's new status. prev is the run recorded in the
// owner's status, or nil before the first call; a run recorded for another
// revision or another hook is ignored and a new one starts.
//
// A run that has finished (Succeeded or Failed) for revision is returned as it
// is, without any I/O: a finished run is never repeated. Otherwise a webhook
// hook makes at most one attempt when one is due (see RequeueAfter) and a Job
// hook creates its Job or reads its state.
//
// The error is only for transient failures of the API server (or a canceled
// ctx); the caller returns it so that the reconcile is retried. A hook that
// fails, including a Job the API server refuses, is a Failed status and a nil
// error.
func (r *Runner) Run(ctx context.Context, owner client.Object, hook Hook, revision string, prev *v1alpha1.HookStatus) (v1alpha1.HookStatus, error) {
	st := current(hook, revision, prev)
	if finished(st) {
		return st, nil
	}
	switch {
	case hook.Action.Webhook != nil:
		return r.runWebhook(ctx, owner, hook, st)
	case hook.Action.Job != nil:
		return r.runJob(ctx, owner, hook, st)
	default:
		return fail(st, r.now(), "the hook has neither a webhook nor a job"), nil
	}
}

// RequeueAfter is how long the reconciler may wait before calling Run again
// for a run in status st: zero once the run has finished, the time until the
// next attempt is due for a webhook that is retrying, and JobPollInterval for
// a running Job.
func (r *Runner) RequeueAfter(hook Hook, st v1alpha1.HookStatus) time.Duration {
	if finished(st) {
		return 0
	}
	if hook.Action.Webhook == nil {
		return JobPollInterval
	}
	wait := nextAttemptAt(*hook.Action.Webhook, st).Sub(r.now())
	if wait < time.Second {
		// Never ask for an immediate requeue: controller-runtime treats a
		// zero RequeueAfter as "no requeue".
		return time.Second
	}
	return wait
}

// current returns the run to continue: prev when it is a run of this hook for
// revision, else a new run that has not started.
func current(hook Hook, revision string, prev *v1alpha1.HookStatus) v1alpha1.HookStatus {
	if prev != nil && prev.Name == hook.Name && prev.Revision == revision {
		return *prev.DeepCopy()
	}
	return v1alpha1.HookStatus{
		Name:     hook.Name,
		Type:     hook.Type,
		Revision: revision,
		Phase:    v1alpha1.HookRunning,
	}
}

// finished reports whether a run passed or failed.
func finished(st v1alpha1.HookStatus) bool {
	return st.Phase == v1alpha1.HookSucceeded || st.Phase == v1alpha1.HookFailed
}

// start marks the run as started at now, unless it already was.
func start(st v1alpha1.HookStatus, now time.Time) v1alpha1.HookStatus {
	if st.StartedAt == nil {
		t := metav1.NewTime(now)
		st.StartedAt = &t
	}
	st.Phase = v1alpha1.HookRunning
	return st
}

// succeed marks the run as passed at at.
func succeed(st v1alpha1.HookStatus, at time.Time, msg string) v1alpha1.HookStatus {
	return end(st, v1alpha1.HookSucceeded, at, msg)
}

// fail marks the run as failed at at.
func fail(st v1alpha1.HookStatus, at time.Time, msg string) v1alpha1.HookStatus {
	return end(st, v1alpha1.HookFailed, at, msg)
}

func end(st v1alpha1.HookStatus, phase v1alpha1.HookPhase, at time.Time, msg string) v1alpha1.HookStatus {
	st = start(st, at)
	t := metav1.NewTime(at)
	st.Phase = phase
	st.FinishedAt = &t
	st.Message = truncate(msg, MaxMessageBytes)
	return st
}

// now reads the Runner's clock, truncated to the second as metav1.Time is
// when it is stored, so that a status read back compares equal.
func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().Truncate(time.Second)
	}
	return time.Now().Truncate(time.Second)
}

// ctxDone reports whether err comes from ctx itself being done, as opposed
// to a deadline of the Runner's own.
func ctxDone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
