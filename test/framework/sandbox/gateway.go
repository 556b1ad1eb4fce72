package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/podnet"
	"github.com/sluice-dev/sluice/test/framework/traefik"
)

// GatewayApp is the Canary of the gateway scenario, released through a real
// Traefik by the Gateway API router.
const GatewayApp = "storefront"

// gatewayScenario releases storefront through Traefik: the same three
// versions as the canary scenario, judged on Traefik's own metrics by the
// traefik preset.
var gatewayScenario = Scenario{
	Name: "gateway", Kind: KindCanary, App: GatewayApp, Manifest: "manifests/storefront.yaml", Gateway: true,
	Releases: []Release{
		{Kind: KindCanary, App: GatewayApp, Image: "v2", Want: Promoted, About: "healthy, through Traefik"},
		{Kind: KindCanary, App: GatewayApp, Image: "v3-bad", Want: RolledBack, About: "5% errors and slow, through Traefik: past both ceilings"},
		{Kind: KindCanary, App: GatewayApp, Image: "v4-slow", Want: RolledBack, About: "a slower tail through Traefik, inside the p99 ceiling: the judge's case"},
	},
}

// NeedsGateway reports whether any of the scenarios releases through
// Traefik, so that Start must bring it up (Options.Gateway).
func NeedsGateway(scenarios []Scenario) bool {
	return slices.ContainsFunc(scenarios, func(s Scenario) bool { return s.Gateway })
}

// gatewayPodCIDR picks the loopback range the sandbox's pods get their
// addresses from when Traefik runs: a /16 in 127.200.0.0-127.243.255.255,
// at random, so that it is not the test suites' (cluster.LoopbackPodCIDR)
// and seldom another sandbox's. Two control planes sharing a range on one
// machine would answer each other's requests: podnet listens on the pods'
// own addresses, and the second listener on an address is refused.
func gatewayPodCIDR() string {
	return fmt.Sprintf("127.%d.0.0/16", 200+rand.IntN(44))
}

// gatewayCRDs adds to crds the Gateway API CRDs Traefik watches beyond the
// ones the router writes.
func gatewayCRDs(crds []string) ([]string, error) {
	all, err := cluster.GatewayAPICRDs()
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if !slices.Contains(crds, f) {
			crds = append(crds, f)
		}
	}
	return crds, nil
}

// startGateway starts Traefik as the Gateway controller of the control
// plane, the pods' network (podnet: a server on each demo pod's loopback
// address, and its Services' EndpointSlices, which Traefik reads), and the
// live traffic sent to Traefik's URL. The control plane must give pods
// loopback addresses (cluster.LoopbackPodCIDR).
func (s *Sandbox) startGateway(ctx context.Context) error {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var err error
	s.Traefik, err = traefik.Start(ctx, s.Cluster, traefik.Options{Log: s.log})
	if err != nil {
		return fmt.Errorf("start Traefik: %w", err)
	}
	s.stops = append(s.stops, s.Traefik.Stop)
	s.Pods, err = podnet.Start(context.Background(), s.Cluster.Config(), podnet.Options{Namespace: Namespace, Images: Images})
	if err != nil {
		return fmt.Errorf("start the pods' network: %w", err)
	}
	s.stops = append(s.stops, s.Pods.Stop)
	s.Edge = startEdge(s.Traefik.URL()+"/", s.rate)
	s.stops = append(s.stops, s.Edge.Stop)
	s.logf("Traefik up in %s; sending %g requests/s to %s for %s, pods served on their addresses in %s",
		time.Since(t0).Round(100*time.Millisecond), s.rate, s.Traefik.URL(), GatewayApp, s.Cluster.PodCIDR())
	return nil
}

// routeWeight reads the canary's share, in percent, of the rule of the
// app's HTTPRoute that names the canary Service.
func (r *Runner) routeWeight(ctx context.Context, app string) (int32, bool, error) {
	route := &gatewayv1.HTTPRoute{}
	if err := r.Sandbox.Client.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: app}, route); err != nil {
		return 0, false, client.IgnoreNotFound(err)
	}
	for _, rule := range route.Spec.Rules {
		var canary, total int32
		found := false
		for _, b := range rule.BackendRefs {
			w := int32(1) // the Gateway API's default weight
			if b.Weight != nil {
				w = *b.Weight
			}
			total += w
			if string(b.Name) == workload.CanaryName(app) {
				canary, found = w, true
			}
		}
		if found && total > 0 {
			return canary * 100 / total, true, nil
		}
	}
	return 0, false, nil
}

// gatewayValues are the manifest fields of the Gateway the gateway
// scenario's route attaches to; empty when Traefik is not running.
func (s *Sandbox) gatewayValues() map[string]string {
	if s.Traefik == nil {
		return map[string]string{"GatewayNamespace": "", "GatewayName": ""}
	}
	ns, name := s.Traefik.Gateway()
	return map[string]string{"GatewayNamespace": ns, "GatewayName": name}
}

// noAnswer is the key under which servedThroughGateway counts the requests
// no pod answered.
const noAnswer = "no pod"

// servedThroughGateway measures who answered the gateway app's live
// traffic sent in the Settle window, after a grace for Traefik to apply the
// last weight (its throttle is 200 ms).
func (r *Runner) servedThroughGateway(ctx context.Context) (map[string]int64, error) {
	if err := r.Sandbox.Pods.Err(); err != nil {
		// A pod whose address another process holds answers as that
		// process says: the measure below may be wrong.
		r.note("warning: the pods' network: %v", err)
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
	}
	from := time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(r.settle()):
	}
	return r.Sandbox.Edge.AnsweredBetween(ctx, from, time.Now())
}
