package gateway_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// Measuring the split.
const (
	// rate is the live traffic, requests per second through Traefik.
	rate = 100
	// settle is left out of each step's measure: after the watch sees a
	// new weight, Traefik applies it within its throttle (200 ms here) and
	// requests in flight still follow the old one. On a loaded machine (CI
	// beside other suites, load above 15) Traefik was seen applying a change
	// up to about 3.2 s after the watch saw it, so 3 s are left out.
	settle = 3 * time.Second
	// tolerance is how far, in percentage points, the canary's measured
	// share of a step may be from the weight. Traefik's weighted round
	// robin is deterministic, so the error is only the edges of the window.
	tolerance = 3.0
	// minRequests is the least number of requests a step needs to be
	// measured against the tolerance.
	minRequests = 150
)

// canaryYAML is the release: 20% then 50% of the traffic, each held at least 5 s,
// checked every 5 s by the traefik preset (request success rate at least
// 99%, p99 latency, the judge) on Traefik's own metrics.
const canaryYAML = `
apiVersion: rollouts.sluice.dev/v1alpha1
kind: Canary
metadata: {name: podinfo, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: podinfo}
  service: {port: 80, targetPort: 9898}
  trafficRouting:
    gatewayAPI:
      httpRoute:
        parentRefs: [{kind: Gateway, namespace: %s, name: %s}]
  steps:
  - setWeight: 20
  - pause: {duration: 5s}
  - setWeight: 50
  - pause: {duration: 5s}
  analysis:
    interval: 5s
    failureLimit: 2
    templateRef:
      name: traefik
      args: [{name: window, value: 10s}]
    provider: {type: prometheus, address: %s, timeout: 2s}
  progressDeadlineSeconds: 60
`

// TestThroughTraefik runs a Canary and a BlueGreen side by side, in two
// namespaces, through one real Traefik.
func TestThroughTraefik(t *testing.T) {
	w := start(t)
	t.Run("releases", func(t *testing.T) {
		t.Run("Canary", func(t *testing.T) {
			t.Parallel()
			canaryThroughTraefik(t, w)
		})
		t.Run("BlueGreen", func(t *testing.T) {
			t.Parallel()
			blueGreenThroughTraefik(t, w)
		})
	})
}

// canaryThroughTraefik releases a healthy and then a bad version through a
// real Traefik.
func canaryThroughTraefik(t *testing.T, w *world) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	g.Expect(w.client.Create(ctx, deployment("podinfo", "v1"))).To(Succeed())
	gwNS, gwName := w.traefik.Gateway()
	c := &v1alpha1.Canary{}
	g.Expect(yaml.UnmarshalStrict([]byte(fmt.Sprintf(canaryYAML, gwNS, gwName, w.prom.URL())), c)).To(Succeed())
	g.Expect(w.client.Create(ctx, c)).To(Succeed())
	t.Log("v1 serves all the traffic through Traefik once Sluice has set up the route")
	g.Eventually(func() map[string]int { return answers(ctx, w.traefik.URL(), "", 20) }).
		WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(map[string]int{"v1 200": 20}))

	env := &apiserver.Env{Config: w.config, Scheme: apiserver.NewScheme()}

	t.Run("a healthy v2 is promoted step by step, with no failed request, and then serves all traffic", func(t *testing.T) {
		g := NewWithT(t)
		got, samples, steps := release(ctx, t, w, env, "v2")
		g.Expect(got.outcome).To(Equal("promoted"), "%s", explain(got.status))
		printTable(t, "v1 → v2 through Traefik (healthy)", steps)
		g.Expect(weightsOf(steps)).To(Equal([]int32{0, 20, 50, 100, 0}),
			"each step in turn, all on the canary while the primary takes v2, then the primary takes over")
		expectSplit(g, steps, 20, 50)
		failed, why := 0, map[string]int{}
		for _, s := range samples {
			if s.failed() {
				failed++
				why[fmt.Sprintf("%d %s %s %s", s.code, s.tag, s.pod, s.err)]++
			}
		}
		g.Expect(failed).To(BeZero(), "no request failed while only healthy versions served (%d sent); failures by answer: %v",
			len(samples), why)
		g.Expect(tally(tail(samples, got.at))).To(And(HaveLen(1), HaveKey("v2 200")), "after the promotion v2 serves everything")
	})

	t.Run("a bad v3 is rolled back on Traefik's metrics, and v2 keeps serving", func(t *testing.T) {
		g := NewWithT(t)
		got, samples, steps := release(ctx, t, w, env, "v3-bad")
		g.Expect(got.outcome).To(Equal("rolled back"), "%s", explain(got.status))
		g.Expect(got.status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
		printTable(t, "v2 → v3-bad through Traefik (30% errors)", steps)
		g.Expect(weightsOf(steps)).To(Equal([]int32{0, 20, 0}), "rolled back at the first step")
		expectSplit(g, steps, 20)
		for _, s := range samples {
			if s.failed() {
				g.Expect(s.tag).To(Equal("v3-bad"), "only the bad version's own answers fail: %+v", s)
			}
		}
		g.Expect(tally(tail(samples, got.at))).To(And(HaveLen(1), HaveKey("v2 200")), "after the rollback v2 serves everything")
	})

	t.Run("deleting the Canary keeps the Gateway's route, handed back to the apex Service: no request unanswered", func(t *testing.T) {
		handBackThroughTraefik(ctx, t, w)
	})
}

// result is how a release ended.
type result struct {
	outcome string // "promoted" or "rolled back"
	at      time.Time
	status  v1alpha1.CanaryStatus
}

// release sets the image of podinfo to tag with live traffic flowing,
// waits for the outcome, and measures the split of each weight the
// HTTPRoute carried.
func release(ctx context.Context, t *testing.T, w *world, env *apiserver.Env, tag string) (result, []sample, []step) {
	g := NewWithT(t)
	change := changeImage(ctx, g, w, env, namespace, "", tag)
	rev, began := change.rev, change.began

	var got result
	g.Eventually(func(g Gomega) {
		c := &v1alpha1.Canary{}
		g.Expect(w.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "podinfo"}, c)).To(Succeed())
		got.status = c.Status
		switch st := c.Status; {
		case st.StableRevision == rev && st.Phase == v1alpha1.PhaseStable:
			got.outcome = "promoted"
		case st.CanaryRevision == rev && st.AbortedAt != nil && st.CanaryWeight == 0:
			got.outcome = "rolled back"
		}
		g.Expect(got.outcome).NotTo(BeEmpty(), "phase %s, step %d, weight %d", c.Status.Phase, c.Status.CurrentStep, c.Status.CanaryWeight)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
	var samples []sample
	got.at, samples = change.end(t, tag, got.outcome)
	weights, seen := apiserver.Replay(change.hist.Stop(), canaryWeight("podinfo"))
	// The first weight is the one before the release: measure it from the
	// release on.
	if len(seen) > 0 && seen[0].Before(began) {
		seen[0] = began.Add(-settle)
	}
	return got, samples, splitTable(samples, weights, seen, got.at.Add(3*time.Second), settle, "podinfo")
}

// expectSplit checks each step measured long enough against its weight,
// and that the weights in want were among them.
func expectSplit(g Gomega, steps []step, want ...int32) {
	var measured []int32
	for _, s := range steps {
		if s.requests < minRequests {
			continue
		}
		measured = append(measured, s.weight)
		g.Expect(math.Abs(s.measured()-float64(s.weight))).To(BeNumerically("<=", tolerance),
			"weight %d%%: %d of %d requests went to canary pods", s.weight, s.canary, s.requests)
	}
	g.Expect(measured).To(ContainElements(want), "steps measured from %d requests on", minRequests)
}

// weightsOf lists the weights the route carried.
func weightsOf(steps []step) []int32 {
	var out []int32
	for _, s := range steps {
		out = append(out, s.weight)
	}
	return out
}

// tail is the traffic sent from two seconds after the outcome on.
func tail(samples []sample, outcome time.Time) []sample {
	return between(samples, outcome.Add(2*time.Second), outcome.Add(time.Hour))
}

// explain says why a release ended as it did: its abort reason and its
// last analysis results.
func explain(st v1alpha1.CanaryStatus) string {
	out := fmt.Sprintf("phase %s, abort reason %q, step %d, weight %d", st.Phase, st.AbortReason, st.CurrentStep, st.CanaryWeight)
	if st.Analysis != nil {
		for _, r := range st.Analysis.Results {
			out += fmt.Sprintf("; %s %s (value %s: %s)", r.Name, r.Outcome, r.Value, r.Message)
		}
		if j := st.Analysis.Judge; j != nil {
			out += fmt.Sprintf("; judge %+v", *j)
		}
	}
	return out
}

// tally counts answers by image tag and status code.
func tally(samples []sample) map[string]int {
	got := map[string]int{}
	for _, s := range samples {
		got[fmt.Sprintf("%s %d", s.tag, s.code)]++
	}
	return got
}

// answers sends n requests, with host as their Host header when not
// empty, and counts the answers by tag and status code.
func answers(ctx context.Context, url, host string, n int) map[string]int {
	hc := &http.Client{Timeout: 2 * time.Second}
	var samples []sample
	for range n {
		samples = append(samples, send(ctx, hc, url, host))
	}
	return tally(samples)
}
