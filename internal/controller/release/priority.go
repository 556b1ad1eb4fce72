package release

import (
	"context"
	"maps"
	"strings"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Work queue priorities. controller-runtime's priority queue hands out the
// highest priority first, FIFO within one priority; the objects of the
// informers' first list wait at handler.LowPriority (-100).
const (
	// PriorityCommand is the priority of a release object whose manual
	// command changed (abort above all): it is reconciled before any
	// routine work waiting in the queue, so that an abort reaches weight 0
	// in a reconcile's time even while hundreds of releases step.
	PriorityCommand = 100
	// PriorityRoutine is the priority of a look again that falls due (a
	// pause's end, a check, a deadline), as of a watch event: a command's
	// reconcile does not keep its high priority for the requeues that
	// follow it.
	PriorityRoutine = 0
	// PriorityPoll is the priority of a look again taken only in case a
	// watch event was missed: a poll while a weight is read back or a
	// Deployment becomes ready, and the rest resync. Why below routine
	// work: when many releases step at once, their polls would otherwise
	// outnumber the reconciles the queue can serve, and every pause end
	// would wait behind them; a poll waits instead, and the watch event it
	// guards against usually comes first and runs at routine priority.
	PriorityPoll = -50
)

// Requeue is the result of a reconcile that succeeded: look again after
// (RestResync at the latest), counted from the observation the decision was
// taken on, elapsed ago, so that the reconcile's own time does not make a
// pause's end late. A poll, and the rest resync, wait at PriorityPoll,
// anything else at PriorityRoutine.
func Requeue(after time.Duration, poll bool, elapsed time.Duration) ctrl.Result {
	priority := PriorityRoutine
	if poll || after == 0 || after >= RestResync {
		priority = PriorityPoll
	}
	after = AtRest(after)
	// Why not zero: a RequeueAfter of zero means no requeue at all.
	after = max(after-max(elapsed, 0), time.Millisecond)
	return ctrl.Result{RequeueAfter: after, Priority: ptr.To(priority)}
}

// commandAnnotations are the command annotations of obj.
func commandAnnotations(obj client.Object) map[string]string {
	out := map[string]string{}
	for k, v := range obj.GetAnnotations() {
		if strings.HasPrefix(k, v1alpha1.AnnotationCommandPrefix) {
			out[k] = v
		}
	}
	return out
}

// commandChanged passes the updates of a release object that add or change
// a manual command (a new request ID); the answer Sluice writes to status is
// not one of them.
var commandChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return false
		}
		now := commandAnnotations(e.ObjectNew)
		return len(now) > 0 && !maps.Equal(commandAnnotations(e.ObjectOld), now)
	},
}

// enqueueCommand puts a release object whose command changed in the queue
// at PriorityCommand, ahead of routine work. With a plain queue (the
// priority queue turned off) it is an ordinary add.
var enqueueCommand = handler.Funcs{
	UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.ObjectNew)}
		if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(PriorityCommand)}, req)
			return
		}
		q.Add(req)
	},
}
