package gatewayapi

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// HandBackSplit sends all the traffic of every managed rule to the apex Service
// in one patch: each rule that splits between the primary and the canary
// gets a single backendRef, the apex, on the port the primary had. A rule
// already handed back is left as it is, so a replay writes nothing. A
// generated HTTPRoute the owner does not control, and a missing one, are
// left alone.
func (r *Router) HandBackSplit(ctx context.Context, s traffic.Split) (bool, error) {
	t := targetOf(s)
	hr, err := r.read(ctx, t.key)
	if hr == nil || err != nil {
		return false, err
	}
	if t.generated && !controlledBy(hr, s) {
		return false, nil
	}
	ops := handBackPatch(&hr.Spec, hr.ResourceVersion, t.rules, t.backends, workload.ApexName(s.Target))
	if len(ops) <= 1 {
		return false, nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return false, fmt.Errorf("encode hand-back patch for HTTPRoute %s: %w", t.key, err)
	}
	err = r.Client.Patch(ctx, hr, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(workload.FieldManager))
	if err != nil {
		return false, fmt.Errorf("hand back HTTPRoute %s to the apex Service: %w", t.key, err)
	}
	return true, nil
}

// FinalizeSplit deletes the generated HTTPRoute when the owner controls it. A
// named HTTPRoute is the user's and is never deleted; neither is one of the
// generated name that Sluice refused to manage. The delete is preconditioned
// on the UID and resourceVersion read, so an HTTPRoute replaced in between
// is not deleted either.
func (r *Router) FinalizeSplit(ctx context.Context, s traffic.Split) error {
	t := targetOf(s)
	if !t.generated {
		return nil
	}
	hr, err := r.read(ctx, t.key)
	if hr == nil || err != nil || !controlledBy(hr, s) {
		return err
	}
	err = r.Client.Delete(ctx, hr, client.Preconditions{UID: &hr.UID, ResourceVersion: &hr.ResourceVersion})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete HTTPRoute %s: %w", t.key, err)
	}
	return nil
}
