package release

import (
	"context"
	"fmt"

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
