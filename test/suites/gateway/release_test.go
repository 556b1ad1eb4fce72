package gateway_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// imageChange is a release of podinfo under live traffic, as both kinds
// start one: the HTTPRoutes of its namespace watched from before it, the
// traffic through Traefik, and the revision the new image makes.
type imageChange struct {
	hist  *apiserver.History
	live  *traffic
	rev   string
	began time.Time
}

// changeImage starts watching the HTTPRoutes of ns and sending live traffic
// through Traefik with host as the Host header ("" for none), and a second
// later sets the image of podinfo in ns to tag, as a change in Git does.
func changeImage(ctx context.Context, g Gomega, w *world, env *apiserver.Env, ns, host, tag string) imageChange {
	hist, err := env.WatchHistory(ctx, ns, &gatewayv1.HTTPRouteList{})
	g.Expect(err).NotTo(HaveOccurred())
	live := sendTraffic(w.traefik.URL(), host, rate)
	time.Sleep(time.Second) // some traffic before the release
	d := &appsv1.Deployment{}
	g.Expect(w.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, d)).To(Succeed())
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = "example.test/podinfo:" + tag
	g.Expect(w.client.Patch(ctx, d, patch)).To(Succeed())
	return imageChange{hist: hist, live: live, rev: workload.Revision(&d.Spec.Template), began: time.Now()}
}

// end logs the outcome of the release of tag, seen now, lets traffic flow
// three more seconds (past a scale-down) and stops it. It returns when the
// outcome was seen and every request sent.
func (c imageChange) end(t *testing.T, tag, outcome string) (time.Time, []sample) {
	at := time.Now()
	t.Logf("%s %s after %s", tag, outcome, at.Sub(c.began).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second) // traffic after the outcome
	return at, c.live.stop()
}
