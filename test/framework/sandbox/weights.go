package sandbox

import (
	"context"
	"fmt"
	"strings"
	"time"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/mesh"
)

// settleWeight follows the canary weight for up to Recheck after the outcome:
// status is written before the route, so the last weight write may still be
// in flight when status says how the release ended.
func (r *Runner) settleWeight(ctx context.Context, res *Result) {
	deadline := time.Now().Add(r.recheck())
	for {
		w, ok, err := r.canaryWeight(ctx, res.App)
		if err == nil && ok {
			if n := len(res.Weights); n == 0 || res.Weights[n-1] != w {
				res.Weights = append(res.Weights, w)
			}
			if w == 0 {
				return
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		time.Sleep(r.poll())
	}
}

// observe records the canary weight the VirtualService carries, the step
// the release has passed, and the color the live Service selects.
func (r *Runner) observe(ctx context.Context, res *Result, st state, rev string) error {
	if res.Kind == KindBlueGreen {
		svc := &corev1.Service{}
		err := r.Sandbox.Client.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: workload.ApexName(res.App)}, svc)
		if err != nil {
			return client.IgnoreNotFound(err)
		}
		if c := svc.Spec.Selector[workload.LabelColor]; c != "" && (len(res.Colors) == 0 || res.Colors[len(res.Colors)-1] != c) {
			res.Colors = append(res.Colors, c)
		}
		return nil
	}
	res.Steps = setWeights(st.steps)
	res.PassedWeight = max(res.PassedWeight, passedWeight(st, rev))
	w, ok, err := r.canaryWeight(ctx, res.App)
	if err != nil || !ok {
		return err
	}
	if n := len(res.Weights); n == 0 || res.Weights[n-1] != w {
		res.Weights = append(res.Weights, w)
	}
	if w <= reachedWeight(st, rev) {
		return nil
	}
	// The route and status are two writes: look again a moment later, at
	// both, before calling it an overshoot.
	time.Sleep(r.recheck())
	later, err := r.state(ctx, res.Kind, res.App)
	if err != nil {
		return err
	}
	w, ok, err = r.canaryWeight(ctx, res.App)
	if err != nil || !ok {
		return err
	}
	if reached := reachedWeight(later, rev); w > reached {
		res.Overshoots = append(res.Overshoots, fmt.Sprintf(
			"the route sent %d%% to the canary while status had reached a step of %d%% (step index %d)", w, reached, later.step))
	}
	return nil
}

// canaryWeight reads the weight the app's VirtualService gives the canary,
// or its HTTPRoute for the gateway app.
func (r *Runner) canaryWeight(ctx context.Context, app string) (int32, bool, error) {
	if app == GatewayApp {
		return r.routeWeight(ctx, app)
	}
	vs := &networkingv1.VirtualService{}
	if err := r.Sandbox.Client.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: app}, vs); err != nil {
		return 0, false, client.IgnoreNotFound(err)
	}
	for _, h := range vs.Spec.GetHttp() {
		for _, d := range h.GetRoute() {
			if strings.HasPrefix(d.GetDestination().GetHost(), workload.CanaryName(app)) {
				return d.GetWeight(), true, nil
			}
		}
	}
	return 0, false, nil
}

// setWeights are the weights of a Canary's setWeight steps, in order.
func setWeights(steps []v1alpha1.CanaryStep) []int32 {
	var out []int32
	for _, s := range steps {
		if s.SetWeight != nil {
			out = append(out, *s.SetWeight)
		}
	}
	return out
}

// passedWeight is the weight of the last setWeight step the release of rev
// has got beyond; 0 when none, or when status is about another revision.
func passedWeight(st state, rev string) int32 {
	w := int32(0)
	for i, s := range st.steps {
		if s.SetWeight != nil && st.inFlight == rev && int32(i) < st.step {
			w = *s.SetWeight
		}
	}
	return w
}

// reachedWeight is the most the canary of rev may get by status: the
// weight of the last setWeight step at or before the current one, all of
// them once every step passed (while the primary takes over), and 0 when
// status is about another revision or the release was rolled back.
func reachedWeight(st state, rev string) int32 {
	switch {
	case st.inFlight != rev:
		return 0
	case st.canaryFull:
		// A promotion moves all traffic to the canary, ready at full
		// size, while the primary takes the new version; a rollback from
		// there keeps it until the primary is back.
		return 100
	case st.aborted:
		return 0
	}
	w := int32(0)
	for i, s := range st.steps {
		if s.SetWeight != nil && int32(i) <= st.step {
			w = *s.SetWeight
		}
	}
	return w
}

// served measures which image tags the app's live traffic reaches for the
// Settle window.
func (r *Runner) served(ctx context.Context, rel Release) (map[string]int64, error) {
	if rel.App == GatewayApp {
		return r.servedThroughGateway(ctx)
	}
	m := r.Sandbox.Podinfo
	if rel.Kind == KindBlueGreen {
		m = r.Sandbox.Checkout
	}
	// The emulator rereads routes and endpoints every 200 ms and lets the
	// requests in flight finish: what it sends after this grace follows
	// the outcome.
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
	}
	before := sentByImage(m)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(r.settle()):
	}
	after := sentByImage(m)
	out := map[string]int64{}
	for tag, n := range after {
		if d := n - before[tag]; d > 0 {
			out[tag] = d
		}
	}
	return out, nil
}

func sentByImage(m *mesh.Mesh) map[string]int64 {
	out := map[string]int64{}
	for tag := range Images {
		out[tag] = m.SentToImage(tag)
	}
	return out
}
