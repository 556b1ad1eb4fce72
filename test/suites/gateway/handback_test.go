package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	routes "github.com/sluice-dev/sluice/internal/traffic"
)

// handBackThroughTraefik deletes the Canary with live traffic flowing
// through Traefik. Its generated HTTPRoute is the Gateway's only route to
// the app: it must be handed back to the apex Service and kept (released to
// the user), so that every request is answered by a pod, during the
// hand-back and after the garbage collector took the primary and its
// Services. The target still runs the rolled-back v3-bad (what Git holds):
// its own 500s are answers; a request no pod answered (Traefik's 404 for a
// Gateway with no route, a 502 or 503, a broken connection) is the failure.
func handBackThroughTraefik(ctx context.Context, t *testing.T, w *world) {
	g := NewWithT(t)
	live := sendTraffic(w.traefik.URL(), "", rate)
	time.Sleep(time.Second) // some traffic before the deletion
	began := time.Now()
	key := client.ObjectKey{Namespace: namespace, Name: "podinfo"}
	g.Expect(w.client.Delete(ctx, &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "podinfo"}})).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(w.client.Get(ctx, key, &v1alpha1.Canary{})) &&
			apierrors.IsNotFound(w.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "podinfo-primary"}, &appsv1.Deployment{}))
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(200*time.Millisecond).Should(BeTrue(),
		"the Canary goes, then the garbage collector takes the primary")
	gone := time.Now()
	t.Logf("Canary handed back and its primary gone after %s", gone.Sub(began).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second) // traffic after: past the primary's pods and Services going
	samples := live.stop()

	unanswered := map[string]int{}
	for _, s := range samples {
		if s.pod == "" {
			unanswered[fmt.Sprintf("%d %s", s.code, s.err)]++
		}
	}
	g.Expect(unanswered).To(BeEmpty(), "every request is answered by a pod (%d sent); unanswered by status and error", len(samples))
	after := tail(samples, gone)
	g.Expect(after).NotTo(BeEmpty())
	for _, s := range after {
		g.Expect(strings.HasPrefix(s.pod, "podinfo-primary")).To(BeFalse(), "after the hand-back the target's pods serve: %+v", s)
	}

	hr := &gatewayv1.HTTPRoute{}
	g.Expect(w.client.Get(ctx, key, hr)).To(Succeed(), "the Gateway keeps its route to the app")
	g.Expect(hr.OwnerReferences).To(BeEmpty(), "released to the user")
	g.Expect(hr.Annotations).To(HaveKeyWithValue(routes.AnnotationHandedBack, "Canary/podinfo"))
	g.Expect(hr.Spec.Rules).To(HaveLen(1))
	g.Expect(hr.Spec.Rules[0].BackendRefs).To(HaveLen(1))
	g.Expect(string(hr.Spec.Rules[0].BackendRefs[0].Name)).To(Equal("podinfo"), "all to the apex Service")
}
