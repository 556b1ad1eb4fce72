package istio

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// HandBackSplit sends all the traffic of every managed route to the apex Service
// in one patch: each route that splits between the primary and the canary
// gets a single destination, the apex, on the port the primary had. A route
// already handed back is left as it is, so a replay writes nothing. A
// generated VirtualService the owner does not control, and a missing one,
// are left alone.
func (r *Router) HandBackSplit(ctx context.Context, s traffic.Split) (bool, error) {
	t := targetOf(s)
	vs, err := r.read(ctx, t.key)
	if vs == nil || err != nil {
		return false, err
	}
	if t.generated && !controlledBy(vs, s) {
		return false, nil
	}
	ops := handBackPatch(&vs.Spec, vs.ResourceVersion, t, workload.ApexName(s.Target))
	if len(ops) <= 1 {
		return false, nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return false, fmt.Errorf("encode hand-back patch for VirtualService %s: %w", t.key, err)
	}
	err = r.Client.Patch(ctx, vs, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(workload.FieldManager))
	if err != nil {
		return false, fmt.Errorf("hand back VirtualService %s to the apex Service: %w", t.key, err)
	}
	return true, nil
}

// FinalizeSplit deletes the generated VirtualService when the owner
// controls it. A named VirtualService is the user's and is never deleted; neither is
// one of the generated name that Sluice refused to manage. The delete is
// preconditioned on the UID read, so a VirtualService replaced in between
// is not deleted either.
func (r *Router) FinalizeSplit(ctx context.Context, s traffic.Split) error {
	t := targetOf(s)
	if !t.generated {
		return nil
	}
	vs, err := r.read(ctx, t.key)
	if vs == nil || err != nil || !controlledBy(vs, s) {
		return err
	}
	err = r.Client.Delete(ctx, vs, client.Preconditions{UID: &vs.UID, ResourceVersion: &vs.ResourceVersion})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete VirtualService %s: %w", t.key, err)
	}
	return nil
}

// read gets a VirtualService; a missing one is nil with no error.
func (r *Router) read(ctx context.Context, key types.NamespacedName) (*networkingv1.VirtualService, error) {
	vs := &networkingv1.VirtualService{}
	if err := r.Client.Get(ctx, key, vs); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read VirtualService %s: %w", key, err)
	}
	return vs, nil
}

// controlledBy reports whether s's owner is vs's controller, by UID: an
// owner deleted and created again under the same name is another owner.
func controlledBy(vs *networkingv1.VirtualService, s traffic.Split) bool {
	ref := metav1.GetControllerOf(vs)
	return ref != nil && ref.UID == s.Owner.GetUID()
}

// handBackPatch replaces the destinations of each route Sluice manages (the
// named ones, or every route that splits between exactly the primary and
// the canary) with the apex alone. The first operation tests the
// resourceVersion read; a patch of that one operation changes nothing.
func handBackPatch(vs *istioapi.VirtualService, resourceVersion string, t target, apex string) []patchOp {
	ops := []patchOp{{Op: "test", Path: "/metadata/resourceVersion", Value: resourceVersion}}
	for i, route := range vs.GetHttp() {
		if len(t.routes) > 0 && !slices.Contains(t.routes, route.GetName()) {
			continue
		}
		m, ok := splitDestinations(route, t.hosts)
		if !ok {
			continue
		}
		dest := map[string]any{"host": apex}
		if p := route.GetRoute()[m.primary].GetDestination().GetPort(); p != nil && p.GetNumber() != 0 {
			dest["port"] = map[string]any{"number": p.GetNumber()}
		}
		ops = append(ops, patchOp{Op: "replace", Path: fmt.Sprintf("/spec/http/%d/route", i),
			Value: []any{map[string]any{"destination": dest, "weight": 100}}})
	}
	return ops
}
