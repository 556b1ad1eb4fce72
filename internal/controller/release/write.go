package release

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Finalizer lets Sluice hand a workload back before its release object goes.
const Finalizer = "rollouts.sluice.dev/finalizer"

// WriteStatus patches obj's status subresource once, with set applying the
// new status to obj. When unchanged is true nothing is written: a reconcile
// that changed nothing makes no write. The patch carries obj's
// resourceVersion: a decision taken on a status that has changed since is
// refused (a conflict, retried), never written over the newer one.
func WriteStatus(ctx context.Context, c client.Client, obj client.Object, unchanged bool, set func()) error {
	if unchanged {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	set()
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("patch status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// AddFinalizer puts Sluice's finalizer on obj, writing only when it is
// missing.
func AddFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.AddFinalizer(obj, Finalizer)
	if err := c.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("add finalizer to %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// RemoveFinalizer takes Sluice's finalizer off obj, letting it go.
func RemoveFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, Finalizer)
	if err := c.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("remove finalizer from %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// conflictRetries is how many times Persist decides again on a fresh read
// after the status write was refused for a conflict.
const conflictRetries = 3

// Persist writes the status that decide returns for obj, before anything
// acts on it. decide reads obj (its status and annotations) and returns
// whether the status is unchanged and how to set the new one. When the write
// is refused because obj changed since it was read (a concurrent command, a
// status written by another replica), obj is read again through reader and
// decide runs again on it, so that what this reconcile observed (a check
// result among it) is decided on the newer status rather than dropped. A
// spec changed in between (a new generation) or a deletion ends the attempt
// with the conflict: the next reconcile observes again.
func Persist(ctx context.Context, c client.Client, reader client.Reader, obj client.Object,
	decide func() (unchanged bool, set func())) error {
	gen := obj.GetGeneration()
	for attempt := 0; ; attempt++ {
		unchanged, set := decide()
		err := WriteStatus(ctx, c, obj, unchanged, set)
		if err == nil || !apierrors.IsConflict(err) || attempt == conflictRetries {
			return err
		}
		if rerr := reader.Get(ctx, client.ObjectKeyFromObject(obj), obj); rerr != nil {
			return errors.Join(err, fmt.Errorf("read %s/%s again: %w", obj.GetNamespace(), obj.GetName(), rerr))
		}
		if obj.GetGeneration() != gen || !obj.GetDeletionTimestamp().IsZero() {
			return err
		}
	}
}
