package release

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Class says how an error that ends a reconcile reaches status and the
// queue (Flux's source-controller pattern).
type Class int

const (
	// Transient errors (an API call refused, a conflict, a timeout) are
	// returned as they are: controller-runtime retries with backoff, and
	// status is not touched.
	Transient Class = iota
	// Waiting errors need something outside to happen (a route's
	// implementation to accept it, a Deployment to get its ReplicaSet):
	// Reconciling=True and Ready=False with the reason, and a requeue.
	Waiting
	// Stalled errors need the spec or the cluster to change (an invalid
	// spec, a route Sluice cannot manage, an object of Sluice's name that
	// is not Sluice's): Stalled=True with the reason, and no retry until
	// the object or something it watches changes.
	Stalled
)

// Failure is the class of an error, with the condition reason and message
// it puts in status.
type Failure struct {
	// Class of the error.
	Class Class
	// Reason is the condition reason, PascalCase (see api/v1alpha1).
	Reason string
	// Message is the error's text, for the condition.
	Message string
	// RequeueAfter is when a Waiting failure looks again.
	RequeueAfter time.Duration
}

// Classify finds the class of err from the typed errors of the packages
// the shell calls, however deeply wrapped. Every typed error that a person
// or the world must act on is listed here, and only here: an error left out
// is Transient, retried with backoff and invisible in status.
func Classify(err error) Failure {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	stalled := func(reason string) Failure { return Failure{Class: Stalled, Reason: reason, Message: msg} }
	waiting := func(reason string) Failure {
		return Failure{Class: Waiting, Reason: reason, Message: msg, RequeueAfter: rollout.PollInterval}
	}
	var (
		spec         *SpecError
		policy       *hooks.PolicyError
		unmanageable *traffic.UnmanageableRouteError
		routeMissing *traffic.RouteNotFoundError
		notAccepted  *traffic.RouteNotAcceptedError
		notOwned     *workload.NotOwnedError
		selector     *workload.SelectorLabelError
	)
	switch {
	case err == nil:
		return Failure{}
	case errors.As(err, &spec), errors.As(err, &policy), errors.Is(err, traffic.ErrUnknownRouter),
		errors.Is(err, workload.ErrNoMatchLabels), errors.As(err, &selector):
		return stalled(v1alpha1.ReasonInvalidSpec)
	case errors.As(err, &unmanageable):
		return stalled(v1alpha1.ReasonRouteUnmanageable)
	case errors.As(err, &routeMissing):
		return stalled(v1alpha1.ReasonRouteNotFound)
	case errors.As(err, &notOwned):
		return stalled(v1alpha1.ReasonObjectNotOwned)
	case errors.As(err, &notAccepted):
		return waiting(v1alpha1.ReasonRouteNotAccepted)
	case errors.Is(err, workload.ErrNoReplicaSet), errors.Is(err, service.ErrColorNotReady):
		return waiting(v1alpha1.ReasonWaitingForReady)
	}
	return Failure{Class: Transient, Message: msg}
}

// SetConditions writes the conditions of a Stalled or Waiting failure: for
// Stalled, Stalled=True and Ready and Reconciling False; for Waiting,
// Reconciling=True and Ready and Stalled False; each with the failure's
// reason and message. A Transient failure writes nothing. An unchanged
// condition keeps its lastTransitionTime.
func (f Failure) SetConditions(conds *[]metav1.Condition, generation int64, now time.Time) {
	if f.Class == Transient {
		return
	}
	status := func(c Class) metav1.ConditionStatus {
		if f.Class == c {
			return metav1.ConditionTrue
		}
		return metav1.ConditionFalse
	}
	at := metav1.NewTime(now.Truncate(time.Second))
	for _, c := range []metav1.Condition{
		{Type: v1alpha1.ConditionStalled, Status: status(Stalled)},
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse},
		{Type: v1alpha1.ConditionReconciling, Status: status(Waiting)},
	} {
		c.Reason, c.Message, c.ObservedGeneration, c.LastTransitionTime = f.Reason, f.Message, generation, at
		meta.SetStatusCondition(conds, c)
	}
}

// Result is what Reconcile returns for err of class f: Stalled ends in a
// reconcile.TerminalError (no backoff; a change of the object or of what it
// watches brings it back), Waiting in a requeue without error, Transient in
// the error itself.
func (f Failure) Result(err error) (ctrl.Result, error) {
	switch f.Class {
	case Stalled:
		return ctrl.Result{}, reconcile.TerminalError(err)
	case Waiting:
		return ctrl.Result{RequeueAfter: f.RequeueAfter}, nil
	}
	return ctrl.Result{}, err
}

// InvalidConditions marks a spec Sluice cannot act on: Stalled with reason
// InvalidSpec, not Ready, not Reconciling. An unchanged condition keeps its
// lastTransitionTime.
func InvalidConditions(conds *[]metav1.Condition, generation int64, now time.Time, msg string) {
	Failure{Class: Stalled, Reason: v1alpha1.ReasonInvalidSpec, Message: msg}.SetConditions(conds, generation, now)
}

// Fail ends a reconcile of the release object named what on cause,
// classified here (Classify): a transient cause is returned as it is and
// leaves status alone; a Stalled or Waiting one is first written to status
// by write, which sets the failure's conditions (SetConditions) on the
// object's status and patches it, then ends the reconcile as Result says.
func Fail(cause error, what string, write func(Failure) error) (ctrl.Result, error) {
	f := Classify(cause)
	if f.Class == Transient {
		return f.Result(cause)
	}
	if err := write(f); err != nil {
		return ctrl.Result{}, err
	}
	return f.Result(fmt.Errorf("%s: %w", what, cause))
}
