package controllertest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GatewayImpl plays a Gateway API implementation on one HTTPRoute: while
// its verdict holds a status, it writes it for every parent at the route's
// current generation, as a Gateway controller does once it programmed its
// data plane.
type GatewayImpl struct {
	c       client.Client
	key     types.NamespacedName
	verdict atomic.Pointer[metav1.Condition]
	stop    chan struct{}
}

// RunGatewayImpl starts the implementation of the HTTPRoute route of ns,
// every 50 ms until Stop; it writes nothing until Set.
func RunGatewayImpl(ctx context.Context, c client.Client, ns, route string) *GatewayImpl {
	g := &GatewayImpl{c: c, key: types.NamespacedName{Namespace: ns, Name: route}, stop: make(chan struct{})}
	go func() {
		defer ginkgo.GinkgoRecover()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-tick.C:
				if v := g.verdict.Load(); v != nil {
					g.report(ctx, *v)
				}
			}
		}
	}()
	return g
}

// Set makes the implementation report status, reason and message from now
// on.
func (g *GatewayImpl) Set(status metav1.ConditionStatus, reason, message string) {
	g.verdict.Store(&metav1.Condition{Status: status, Reason: reason, Message: message})
}

// Stop ends the implementation.
func (g *GatewayImpl) Stop() { close(g.stop) }

// report writes the verdict when the route's status is not already it.
func (g *GatewayImpl) report(ctx context.Context, v metav1.Condition) {
	hr := &gatewayv1.HTTPRoute{}
	if g.c.Get(ctx, g.key, hr) != nil {
		return
	}
	if len(hr.Status.Parents) == len(hr.Spec.ParentRefs) && len(hr.Status.Parents) > 0 {
		c := meta.FindStatusCondition(hr.Status.Parents[0].Conditions, "Accepted")
		if c != nil && c.ObservedGeneration == hr.Generation && c.Status == v.Status && c.Reason == v.Reason {
			return
		}
	}
	parents := make([]gatewayv1.RouteParentStatus, 0, len(hr.Spec.ParentRefs))
	for _, ref := range hr.Spec.ParentRefs {
		entry := gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: "example.com/gateway"}
		for _, t := range []string{"Accepted", "ResolvedRefs"} {
			meta.SetStatusCondition(&entry.Conditions, metav1.Condition{Type: t, Status: v.Status,
				Reason: v.Reason, Message: v.Message, ObservedGeneration: hr.Generation})
		}
		parents = append(parents, entry)
	}
	hr.Status.Parents = parents
	_ = g.c.Status().Update(ctx, hr)
}
