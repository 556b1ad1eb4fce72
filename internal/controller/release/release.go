package release

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Deployment reads a Deployment and what the state machines need of it. A
// missing Deployment is an observation (nil, Exists false), not an error.
func Deployment(ctx context.Context, c client.Reader, ns, name string) (*appsv1.Deployment, rollout.WorkloadState, error) {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, rollout.WorkloadState{}, nil
		}
		return nil, rollout.WorkloadState{}, fmt.Errorf("get Deployment %s/%s: %w", ns, name, err)
	}
	ready := workload.ReadinessOf(d)
	return d, rollout.WorkloadState{
		Exists:          true,
		Revision:        workload.Revision(&d.Spec.Template),
		DesiredReplicas: ready.Desired,
		ReadyReplicas:   ready.ReadyAtRevision(),
	}, nil
}

// PendingCommands reads the manual commands from an object's annotations,
// one per kind (see rollout.CommandsFromAnnotations).
func PendingCommands(obj metav1.Object) []rollout.PendingCommand {
	return rollout.CommandsFromAnnotations(obj.GetAnnotations())
}

// HandBackTarget reads the user's Deployment for a hand-back. One being
// deleted (a namespace going, a foreground delete) is reported missing: its
// pods will never be ready, and waiting for them would hold the finalizer,
// and the namespace, forever.
func HandBackTarget(ctx context.Context, c client.Reader, ns, name string) (rollout.WorkloadState, error) {
	d, st, err := Deployment(ctx, c, ns, name)
	if err != nil || d == nil || d.DeletionTimestamp.IsZero() {
		return st, err
	}
	return rollout.WorkloadState{}, nil
}

// ProgressHooks makes progress on the Running hook runs of revision, so that
// the state machine sees where they stand: it starts a webhook attempt when
// one is due, creates or reads a Job. specHooks are the hooks of the
// object's spec; a run of a hook the spec no longer names is left alone. It
// returns the runs and how soon one of them wants another look (zero when
// none does).
//
// It is a phase of its own between observe (reads only) and the decision,
// and these are the only calls out made before the decision is persisted.
// Why not an action executed after it: a run is started by the state
// machine, which records it Running in status, and that status was
// persisted by an earlier reconcile before any call; what a call returns
// (an attempt made, a Job created, an answer) is what the machine must
// decide on, and it is persisted with the decision that reads it. As an
// action its result would need a second status write after every call.
func ProgressHooks(ctx context.Context, r *hooks.Runner, owner client.Object, runs []v1alpha1.HookStatus,
	revision string, specHooks []hooks.Hook) ([]v1alpha1.HookStatus, time.Duration, error) {
	var out []v1alpha1.HookStatus
	var wait time.Duration
	for i := range runs {
		prev := &runs[i]
		if prev.Revision != revision || prev.Phase != v1alpha1.HookRunning {
			continue
		}
		h, ok := hookNamed(specHooks, prev.Name)
		if !ok {
			continue
		}
		run, err := r.Run(ctx, owner, h, prev.Revision, prev)
		if err != nil {
			return nil, 0, fmt.Errorf("run %s hook %s: %w", h.Type, h.Name, err)
		}
		out = append(out, run)
		wait = Sooner(wait, r.RequeueAfter(h, run))
	}
	return out, wait, nil
}

// hookNamed returns the hook of that name.
func hookNamed(specHooks []hooks.Hook, name string) (hooks.Hook, bool) {
	for _, h := range specHooks {
		if h.Name == name {
			return h, true
		}
	}
	return hooks.Hook{}, false
}

// Sooner returns the shorter of two requeue delays, zero meaning "none".
func Sooner(a, b time.Duration) time.Duration {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// RestResync is how often a release object at rest (stable, paused, rolled
// back) is looked at again when nothing wakes it: the objects Sluice manages
// are watched, so this only bounds how long a change that no watch reports
// (a missed event, a route kind not served at start-up) stays uncorrected.
const RestResync = 5 * time.Minute

// AtRest returns the requeue delay of a reconcile: after, or RestResync when
// the state machine asked for none.
func AtRest(after time.Duration) time.Duration {
	return Sooner(after, RestResync)
}

// Emit records the state machine's events on obj.
func Emit(rec events.EventRecorder, obj client.Object, evs []rollout.Event) {
	if rec == nil {
		return
	}
	for _, e := range evs {
		rec.Eventf(obj, nil, e.Type, e.Reason, e.Reason, "%s", e.Message)
	}
}
