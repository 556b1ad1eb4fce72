package gateway_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/podnet"
	"github.com/sluice-dev/sluice/test/framework/traefik"
)

// The BlueGreen's place: its own namespace (its own pods' network) and its
// own host on the Gateway, so that it runs beside the Canary.
const (
	bgNamespace = "checkout"
	bgHost      = "checkout.example.test"
	// throttle is Traefik's providers throttle in this suite (the
	// traefik package's default): the least time between two
	// configurations it applies.
	throttle = 200 * time.Millisecond
)

// blueGreenYAML is the release: a generated HTTPRoute on the suite's Gateway
// for one host, a pre-promotion smoke test (a webhook that sends requests
// to the preview Service's pods), one post-promotion check 5 s after the
// flip of the new color's request success rate on Traefik's own metrics
// (Traefik names the backend <namespace>-<Service>-http-<port>@kubernetesgateway;
// {{ .Canary }} is the new color's Service), and the old color kept 2 s
// after a successful release (a post-promotion failure flips back before
// any scale-down; a next release waits for the old color to be free).
const blueGreenYAML = `
apiVersion: rollouts.sluice.dev/v1alpha1
kind: BlueGreen
metadata: {name: podinfo, namespace: %s}
spec:
  targetRef: {kind: Deployment, name: podinfo}
  service: {port: 80, targetPort: 9898}
  trafficRouting:
    gatewayAPI:
      httpRoute:
        parentRefs: [{kind: Gateway, namespace: %s, name: %s}]
        hostnames: [%s]
  hooks:
  - name: smoke
    type: pre-promotion
    webhook: {url: %s, timeout: 5s, retries: 0}
  postPromotionAnalysis:
    interval: 5s
    checks: 1
    failureLimit: 1
    provider: {type: prometheus, address: %s, timeout: 2s}
    metrics:
    - name: request-success-rate
      query: >-
        sum(rate(traefik_service_requests_total{service=~"{{ .Namespace }}-{{ .Canary }}-http-[0-9]+@kubernetesgateway",code!~"5.."}[10s]))
        /
        sum(rate(traefik_service_requests_total{service=~"{{ .Namespace }}-{{ .Canary }}-http-[0-9]+@kubernetesgateway"}[10s]))
      thresholdRange: {min: 0.99}
  scaleDownDelay: 2s
  progressDeadlineSeconds: 60
`

// blueGreenThroughTraefik releases a healthy version, flipped on the
// HTTPRoute Traefik serves; a bad one, stopped by the smoke test before
// the flip; and a bad one the smoke test misses, flipped back after the
// flip on Traefik's metrics.
func blueGreenThroughTraefik(t *testing.T, w *world) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc := startBlueGreen(ctx, t, w)
	t.Run("a healthy v2 passes the smoke test and is flipped to in one step, with no failed request", sc.promote)
	t.Run("a bad v3 fails the smoke test on the preview, is never flipped to, and v2 keeps serving", sc.stopBeforeFlip)
	t.Run("a bad v4 the smoke test misses is flipped to, fails Traefik's success rate and is flipped back in one step",
		sc.flipBack)
}

// bgScene is what the BlueGreen's releases share.
type bgScene struct {
	ctx   context.Context
	w     *world
	env   *apiserver.Env
	smoke *smokeTest
}

// startBlueGreen starts the pods' network of the BlueGreen's namespace and
// the smoke test, creates the Deployment at v1 and the BlueGreen, and
// waits for v1 to serve the BlueGreen's host through Traefik.
func startBlueGreen(ctx context.Context, t *testing.T, w *world) *bgScene {
	g := NewWithT(t)
	g.Expect(w.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: bgNamespace}})).To(Succeed())
	pods, err := podnet.Start(context.Background(), w.config, podnet.Options{Namespace: bgNamespace, Images: images})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(pods.Stop()).To(Succeed()) })
	sc := &bgScene{ctx: ctx, w: w, env: &apiserver.Env{Config: w.config, Scheme: apiserver.NewScheme()},
		smoke: newSmokeTest(w.client, bgNamespace, workload.PreviewName("podinfo"))}
	hook := httptest.NewServer(sc.smoke)
	t.Cleanup(hook.Close)
	g.Eventually(func() error {
		return w.client.Get(ctx, client.ObjectKey{Namespace: bgNamespace, Name: "default"}, &corev1.ServiceAccount{})
	}).WithTimeout(30 * time.Second).Should(Succeed())

	d := deployment("podinfo", "v1")
	d.Namespace = bgNamespace
	g.Expect(w.client.Create(ctx, d)).To(Succeed())
	gwNS, gwName := w.traefik.Gateway()
	manifest := fmt.Sprintf(blueGreenYAML, bgNamespace, gwNS, gwName, bgHost, hook.URL, w.prom.URL())
	g.Expect(yaml.UnmarshalStrict([]byte(manifest), &v1alpha1.BlueGreen{})).To(Succeed())
	// Sent as written, as kubectl does: the typed object would drop
	// "retries: 0" (omitempty) and the API server would default it to 2.
	bg := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal([]byte(manifest), &bg.Object)).To(Succeed())
	g.Expect(w.client.Create(ctx, bg)).To(Succeed())
	t.Log("v1 serves all the BlueGreen's host through Traefik once Sluice has set up the route")
	g.Eventually(func() map[string]int { return answers(ctx, w.traefik.URL(), bgHost, 20) }).
		WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(map[string]int{"v1 200": 20}))
	return sc
}

// promote releases a healthy v2: the smoke test passes, the route flips
// from blue to green in one write, Traefik accepts it, and live traffic
// moves at once with no failed request.
func (sc *bgScene) promote(t *testing.T) {
	g := NewWithT(t)
	sc.smoke.take() // only this release's calls
	got, samples, colors, seen := flip(sc.ctx, t, sc.w, sc.env, "v2")
	g.Expect(got.outcome).To(Equal("promoted"), "%+v", got.status)
	g.Expect(sc.smoke.take()).To(And(HaveLen(1), HaveKey("v2 200")), "the smoke test met only the new version, healthy")
	g.Expect(colors).To(Equal([]string{"blue", "green"}), "the HTTPRoute went from all blue to all green in one write")
	expectTraefikAccepted(sc.ctx, g, sc.w.client, got.status)
	sw := switchOver(samples, "podinfo-blue-", "podinfo-green-")
	t.Logf("v1 → v2 flip through Traefik: %s; first v2 answer sent %s after the watch saw the route's write", sw,
		sw.firstNew.Sub(seen[len(seen)-1]).Round(time.Millisecond))
	g.Expect(sw.found).To(BeTrue(), "both colors answered during the release")
	g.Expect(sw.overlap).To(BeNumerically("<", throttle), "no mixture of colors longer than Traefik's throttle")
	failed := 0
	for _, s := range samples {
		if s.failed() {
			failed++
		}
	}
	g.Expect(failed).To(BeZero(), "no request failed while only healthy versions served (%d sent)", len(samples))
	g.Expect(tally(tail(samples, got.at))).To(Equal(map[string]int{"v2 200": len(tail(samples, got.at))}),
		"after the flip v2 serves everything")
}

// stopBeforeFlip releases a bad v3: the smoke test fails on the preview,
// the route never leaves green, and live traffic never meets v3.
func (sc *bgScene) stopBeforeFlip(t *testing.T) {
	g := NewWithT(t)
	sc.smoke.take()
	got, samples, colors, _ := flip(sc.ctx, t, sc.w, sc.env, "v3-bad")
	g.Expect(got.outcome).To(Equal("rolled back"), "%+v", got.status)
	g.Expect(got.status.AbortReason).To(Equal(v1alpha1.ReasonHookFailed))
	g.Expect(got.status.SwitchedAt).To(BeNil(), "never flipped")
	g.Expect(sc.smoke.take()).To(HaveKey("v3-bad 500"), "the smoke test met the bad version's errors")
	g.Expect(colors).To(Equal([]string{"green"}), "the HTTPRoute never left green")
	for _, s := range samples {
		g.Expect(s.failed()).To(BeFalse(), "live traffic never reached the bad version: %+v", s)
		g.Expect(s.tag).To(Equal("v2"), "live traffic stayed on v2: %+v", s)
	}
}

// flipBack releases a bad v4 that the smoke test is made to miss: the
// route flips to blue, the post-promotion check on Traefik's metrics fails,
// and the route flips back to green, each in one write.
func (sc *bgScene) flipBack(t *testing.T) {
	g := NewWithT(t)
	sc.smoke.miss(true) // stands for a test suite that does not cover v4's bug
	defer sc.smoke.miss(false)
	sc.smoke.take()
	got, samples, colors, seen := flip(sc.ctx, t, sc.w, sc.env, "v4-bad")
	g.Expect(got.outcome).To(Equal("rolled back"), "%+v", got.status)
	g.Expect(got.status.AbortReason).To(Equal(v1alpha1.ReasonAnalysisFailed))
	g.Expect(sc.smoke.take()).To(HaveKey("v4-bad 200"), "the smoke test ran against v4")
	g.Expect(colors).To(Equal([]string{"green", "blue", "green"}), "one write to blue, one write back to green")
	expectTraefikAccepted(sc.ctx, g, sc.w.client, got.status)
	g.Expect(got.status.ActiveColor).To(Equal(v1alpha1.Color("green")))
	// Each flip is measured on its own part of the traffic: until, and
	// from, halfway between the two writes the watch saw (5 s apart at
	// least: the post-promotion check's interval).
	half := seen[1].Add(seen[2].Sub(seen[1]) / 2)
	there := switchOver(between(samples, time.Time{}, half), "podinfo-green-", "podinfo-blue-")
	back := switchOver(between(samples, half, got.at.Add(time.Hour)), "podinfo-blue-", "podinfo-green-")
	t.Logf("v2 → v4-bad flip through Traefik: %s; first v4 answer sent %s after the watch saw the write", there,
		there.firstNew.Sub(seen[1]).Round(time.Millisecond))
	t.Logf("v4-bad → v2 flip back through Traefik: %s; first v2 answer sent %s after the watch saw the write", back,
		back.firstNew.Sub(seen[2]).Round(time.Millisecond))
	g.Expect(there.found && back.found).To(BeTrue(), "both flips seen by live traffic")
	g.Expect(there.overlap).To(BeNumerically("<", throttle))
	g.Expect(back.overlap).To(BeNumerically("<", throttle))
	for _, s := range samples {
		if s.failed() {
			g.Expect(s.tag).To(Equal("v4-bad"), "only the bad version's own answers fail: %+v", s)
		}
	}
	g.Expect(tally(tail(samples, got.at))).To(Equal(map[string]int{"v2 200": len(tail(samples, got.at))}),
		"after the flip back v2 serves everything")
}

// bgResult is how a BlueGreen release ended.
type bgResult struct {
	outcome string // "promoted" or "rolled back"
	at      time.Time
	status  v1alpha1.BlueGreenStatus
}

// flip sets the image of the BlueGreen's Deployment to tag with live
// traffic flowing through Traefik, waits for the outcome, and returns the
// traffic, the colors the HTTPRoute carried and when the watch saw each.
func flip(ctx context.Context, t *testing.T, w *world, env *apiserver.Env, tag string) (bgResult, []sample, []string, []time.Time) {
	g := NewWithT(t)
	change := changeImage(ctx, g, w, env, bgNamespace, bgHost, tag)
	rev, began := change.rev, change.began

	var got bgResult
	last := ""
	g.Eventually(func(g Gomega) {
		bg := &v1alpha1.BlueGreen{}
		g.Expect(w.client.Get(ctx, client.ObjectKey{Namespace: bgNamespace, Name: "podinfo"}, bg)).To(Succeed())
		got.status = bg.Status
		if m := fmt.Sprintf("%s %s", bg.Status.Phase, bg.Status.Message); m != last {
			t.Logf("%s after the image change: %s", time.Since(began).Round(100*time.Millisecond), m)
			last = m
		}
		switch st := bg.Status; {
		case st.ActiveRevision == rev && st.PreviewRevision == "" && st.Route != nil && st.Route.LiveColor == st.ActiveColor:
			got.outcome = "promoted"
		case st.PreviewRevision == rev && st.AbortedAt != nil && st.SwitchedAt == nil &&
			st.Route != nil && st.Route.LiveColor == st.ActiveColor:
			got.outcome = "rolled back"
		}
		g.Expect(got.outcome).NotTo(BeEmpty(), "phase %s, active %s", bg.Status.Phase, bg.Status.ActiveColor)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
	var samples []sample
	got.at, samples = change.end(t, tag, got.outcome)
	colors, seen := apiserver.Replay(change.hist.Stop(), routeColor("podinfo"))
	return got, samples, colors, seen
}

// expectTraefikAccepted checks that the flip was read back from Traefik's
// own status on the HTTPRoute: Accepted and ResolvedRefs at its current
// generation, written by Traefik's controller.
func expectTraefikAccepted(ctx context.Context, g Gomega, c client.Client, st v1alpha1.BlueGreenStatus) {
	g.Expect(st.Route).NotTo(BeNil())
	g.Expect(st.Route.Kind).To(Equal("HTTPRoute"))
	g.Expect(st.Route.LiveColor).To(Equal(st.ActiveColor))
	route := &gatewayv1.HTTPRoute{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: bgNamespace, Name: st.Route.Name}, route)).To(Succeed())
	g.Expect(colorOf(route, "podinfo")).To(Equal(string(st.ActiveColor)))
	g.Expect(route.Status.Parents).To(HaveLen(1))
	p := route.Status.Parents[0]
	g.Expect(string(p.ControllerName)).To(Equal(traefik.ControllerName))
	for _, typ := range []gatewayv1.RouteConditionType{gatewayv1.RouteConditionAccepted, gatewayv1.RouteConditionResolvedRefs} {
		cond := findCondition(p.Conditions, string(typ))
		g.Expect(cond).NotTo(BeNil(), "Traefik reports %s", typ)
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), "%s: %s", typ, cond.Message)
		g.Expect(cond.ObservedGeneration).To(Equal(route.Generation), "%s at the route's generation", typ)
	}
}

// findCondition returns the condition of that type, or nil.
func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}
