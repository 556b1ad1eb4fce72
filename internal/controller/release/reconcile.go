package release

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// Spine is the reconcile of one release object, Canary or BlueGreen, step by
// step: what every kind does in the same order, with the steps that differ
// given by the kind (HandBack, Admit, WriteFailure and the Pass that Admit
// returns).
// O is the kind's object type (*v1alpha1.Canary).
type Spine[O client.Object] struct {
	// Kind is the kind reconciled ("Canary"), for errors and metrics.
	Kind string
	// New returns an empty object of the kind, to read into.
	New func() O
	// Client reads through the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads the object straight from the API server: a decision
	// must never be taken on a status older than the last one written,
	// which a cache may still hold.
	APIReader client.Reader
	// Reads, when set, serves the object from the cache once the cache
	// holds the newest version this process wrote or read (see
	// FreshReader); nil reads every object through APIReader.
	Reads *FreshReader
	// Recorder emits Kubernetes Events.
	Recorder events.EventRecorder
	// Hooks runs webhooks and Jobs.
	Hooks *hooks.Runner
	// Metrics are the operator's collectors; nil turns them off.
	Metrics *metrics.Collectors
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// HandBack is what differs in the hand-back of an object being deleted
	// (see Finalize): what serves, its route, its conditions. The rest of
	// HandBack (the client, metrics, kind, object and clock) is the spine's.
	HandBack func(O) HandBack
	// Admit resolves the object's spec and checks it before anything is
	// observed or called; the Pass it returns carries the reconcile on.
	Admit func(context.Context, O) (Pass, error)
	// WriteFailure writes a Stalled or Waiting failure to the object's
	// status: the failure's conditions (Failure.SetConditions), the
	// generation they observed and what the kind derives from them for
	// display, in one write (see WriteDecided).
	WriteFailure func(context.Context, O, Failure) error
}

// Pass is one reconcile of an admitted release object: it holds what
// admission resolved (the spec, its pinned analyses, the router), what it
// observes and what it decides, in the kind's own types.
type Pass interface {
	// Observe reads the world for the state machine, the clock read at
	// now. It only reads: a missing object is an observation, and only
	// transient API errors come back as errors.
	Observe(ctx context.Context, now time.Time) error
	// Hooks are the object's hook runs that ProgressHooks carries on.
	Hooks() HookRuns
	// Decide runs the state machine on what was observed and on the hook
	// runs progressed, and persists its status before anything acts on it
	// (see PersistDecision).
	Decide(ctx context.Context, progressed []v1alpha1.HookStatus) (rollout.Outcome, error)
	// Execute carries out the decision's actions (see Execute).
	Execute(ctx context.Context) error
}

// HookRuns are a release object's hook runs as ProgressHooks takes them.
type HookRuns struct {
	// Runs are status.hooks.
	Runs []v1alpha1.HookStatus
	// Revision is the revision in flight; only its runs make progress.
	Revision string
	// Spec are the hooks of the object's spec.
	Spec []hooks.Hook
}

// Reconcile brings one release object one step closer to what its spec and
// status call for: read it; hand the workload back if it is being deleted,
// else make sure the finalizer is on it; admit its spec; observe; carry on
// its hook runs; decide and persist the decision; emit the decision's
// events; execute its actions; and look again when it asks to.
func (s Spine[O]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := s.New()
	if err := s.get(ctx, req, obj); err != nil {
		if apierrors.IsNotFound(err) {
			Forget(s.Metrics, s.Kind, req.Namespace, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get %s %s: %w", s.Kind, req.NamespacedName, err)
	}
	if s.Reads != nil {
		// Why at the end: obj then holds the version the last write of this
		// reconcile returned, or the one read (see FreshReader).
		defer s.Reads.Saw(obj)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		h := s.HandBack(obj)
		h.Client, h.Metrics, h.Kind, h.Object, h.Now = s.Client, s.Metrics, s.Kind, obj, Now(s.Now)
		return Finalize(ctx, h)
	}
	if err := AddFinalizer(ctx, s.Client, obj); err != nil {
		return ctrl.Result{}, err
	}
	p, err := s.Admit(ctx, obj)
	if err != nil {
		return s.fail(ctx, obj, err)
	}
	observed := Now(s.Now)
	if err := p.Observe(ctx, observed); err != nil {
		return s.fail(ctx, obj, err)
	}
	// Why apart from observe: the only calls made before the decision is
	// persisted, and they only carry on runs a persisted status already
	// started (see ProgressHooks).
	h := p.Hooks()
	runs, hookWait, err := ProgressHooks(ctx, s.Hooks, obj, h.Runs, h.Revision, h.Spec)
	if err != nil {
		return s.fail(ctx, obj, err)
	}
	// Why status first: the decision is persisted before anything acts on
	// it. A refused write (a conflict, the operator dying) leaves the world
	// as it was, and the actions are derived again from what was persisted
	// and what is observed, so a rollback once written is never forgotten;
	// a BlueGreen's flip or flip-back is persisted before the Services
	// change, so a crash after it repeats the same flip.
	out, err := p.Decide(ctx, runs)
	if err != nil {
		return ctrl.Result{}, err
	}
	Emit(s.Recorder, obj, out.Events)
	if err := p.Execute(ctx); err != nil {
		return s.fail(ctx, obj, err)
	}
	after, poll := out.RequeueAfter, out.Poll
	if hookWait > 0 && (after == 0 || hookWait < after) {
		// Why not a poll: a webhook's answer comes by no watch.
		after, poll = hookWait, false
	}
	return Requeue(after, poll, Now(s.Now).Sub(observed)), nil
}

// fail ends a reconcile on cause, classified in one place (Classify): a spec
// the API server accepted but Sluice cannot act on (an unknown router, a
// query template that does not parse, a Job hook the hook policy forbids),
// a route it cannot manage or an object of its name that is not its own is
// Stalled, with no retry; something to wait for is Reconciling, with a
// requeue; both are written to status first (WriteFailure). Anything else
// is retried with backoff and leaves status alone.
func (s Spine[O]) fail(ctx context.Context, obj O, cause error) (ctrl.Result, error) {
	what := fmt.Sprintf("%s %s/%s", strings.ToLower(s.Kind), obj.GetNamespace(), obj.GetName())
	return Fail(cause, what, func(f Failure) error { return s.WriteFailure(ctx, obj, f) })
}

// get reads the object a decision is taken on: never older than a version
// this process wrote.
func (s Spine[O]) get(ctx context.Context, req ctrl.Request, obj O) error {
	if s.Reads != nil {
		return s.Reads.Get(ctx, req.NamespacedName, obj)
	}
	return s.APIReader.Get(ctx, req.NamespacedName, obj)
}
