package traffic

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/workload"
)

// The helpers below are what every router does to the route objects it
// writes (VirtualServices, HTTPRoutes): read one, tell whether a release
// object controls it, send a JSON patch under Sluice's field manager, and
// delete only the version that was read.

// Read gets the object at key into obj; a missing object is (false, nil).
// kind names it in the error.
func Read(ctx context.Context, c client.Reader, kind string, key types.NamespacedName, obj client.Object) (bool, error) {
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("read %s %s: %w", kind, key, err)
	}
	return true, nil
}

// ControlledBy reports whether owner is obj's controller, by UID: a release
// object deleted and created again under the same name is another owner.
func ControlledBy(obj, owner metav1.Object) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == owner.GetUID()
}

// SendPatch sends ops, a JSON patch (RFC 6902), to obj under Sluice's field
// manager. The ops should start with a test of the resourceVersion read, so
// that a route changed since is refused (a conflict, retried on a fresh
// read) rather than patched blind. what says what the patch does, for the
// error ("set weight 10 on VirtualService shop/podinfo").
func SendPatch(ctx context.Context, c client.Client, obj client.Object, ops any, what string) error {
	patch, err := json.Marshal(ops)
	if err != nil {
		return fmt.Errorf("encode the patch to %s: %w", what, err)
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(workload.FieldManager)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// DeleteRead deletes obj only if it is still the version read: the delete
// is preconditioned on its UID and resourceVersion, so an object replaced or
// changed in between is not deleted. An object already gone is no error.
func DeleteRead(ctx context.Context, c client.Client, kind string, obj client.Object) error {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	err := c.Delete(ctx, obj, client.Preconditions{UID: &uid, ResourceVersion: &rv})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
