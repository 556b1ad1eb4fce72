package gatewayapi

import (
	"context"
	"fmt"

	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// HandBackSplit sends all the traffic of every managed rule to the apex Service
// in one patch: each rule that splits between the primary and the canary
// gets a single backendRef, the apex, on the port the primary had; in a
// generated route, a backendRef of another rule (one added by hand) that
// names the primary or canary Service is pointed at the apex too. A rule
// already handed back is left as it is, so a replay writes nothing. A
// generated HTTPRoute the owner does not control, and a missing one, are
// left alone.
func (r *Router) HandBackSplit(ctx context.Context, s traffic.Split) (bool, error) {
	t := targetOf(s)
	hr, err := r.read(ctx, t.key)
	if hr == nil || err != nil {
		return false, err
	}
	if t.generated && !traffic.ControlledBy(hr, s.Owner) {
		return false, nil
	}
	ops := handBackPatch(&hr.Spec, hr.ResourceVersion, t.rules, t.backends, workload.ApexName(s.Target), t.generated)
	if len(ops) <= 1 {
		return false, nil
	}
	if err := traffic.SendPatch(ctx, r.Client, hr, ops, fmt.Sprintf("hand back HTTPRoute %s to the apex Service", t.key)); err != nil {
		return false, err
	}
	return true, nil
}

// FinalizeSplit ends Sluice's management of the generated HTTPRoute when
// the owner controls it (see traffic.Finish). One with a Gateway parent is
// the Gateway's only route to the app: it is kept, handed back to the apex
// Service, and released to the user (so is one with any parent but the apex
// Service, in the spec or added to the live route by hand, see
// keepOnHandBack). One whose only parent is the apex Service
// (GAMMA) is deleted: the mesh then sends the apex Service's traffic to its
// endpoints, the user's pods, as the handed-back route did. A named HTTPRoute is the user's and is never
// touched; neither is one of the generated name that Sluice refused to
// manage. The write is preconditioned on the resourceVersion read, so an
// HTTPRoute replaced or changed in between is left alone.
func (r *Router) FinalizeSplit(ctx context.Context, s traffic.Split) error {
	t := targetOf(s)
	if !t.generated {
		return nil
	}
	hr, err := r.read(ctx, t.key)
	if hr == nil || err != nil {
		return err
	}
	handedBack := len(handBackPatch(&hr.Spec, hr.ResourceVersion, t.rules, t.backends, workload.ApexName(s.Target), t.generated)) <= 1
	return traffic.Finish(ctx, r.Client, kind, hr, s, keepOnHandBack(s, hr), handedBack)
}
