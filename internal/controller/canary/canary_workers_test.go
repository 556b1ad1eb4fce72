package canary_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
)

// The operator's workers are never held by a webhook for longer than
// hooks.DefaultAwait: an attempt still in flight is polled, not awaited.
// So even one worker (the suite's operator has several) rolls back one
// Canary's failed check while another Canary's webhook hangs.
var _ = Describe("One worker", func() {
	It("rolls back one Canary's failed check while another's webhook hangs", func() {
		controllertest.StopOperator(suite)
		Expect(suite.StartOperator(func(o *ctrl.Options) { o.Controller.MaxConcurrentReconciles = 1 })).To(Succeed())
		DeferCleanup(func() {
			controllertest.StopOperator(suite)
			controllertest.StartOperator(suite)
		})
		release := make(chan struct{})
		var calls atomic.Int32
		hanging := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			calls.Add(1)
			<-release
		}))
		DeferCleanup(func() {
			close(release)
			hanging.Close()
		})

		slow := newNamespace()
		newTarget(slow, "podinfo:v1", 1)
		newCanary(slow, func(c *v1alpha1.Canary) {
			c.Spec.Hooks = []v1alpha1.CanaryHook{{Name: "hangs", Type: v1alpha1.HookPreRollout,
				HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{
					URL: hanging.URL, Timeout: &metav1.Duration{Duration: 5 * time.Minute}}}}}
		})
		bad := newNamespace()
		newTarget(bad, "podinfo:v1", 1)
		newCanary(bad, analysed("vector(0.5)", 1))
		waitStable(slow)
		waitStable(bad)

		setImage(slow, "podinfo:v2")
		Eventually(calls.Load).Should(BeNumerically(">=", 1), "the webhook is being called, and hangs")
		started := time.Now()
		setImage(bad, "podinfo:v3-bad")
		Eventually(func(g Gomega) {
			g.Expect(getCanary(bad).Status.AbortedAt).NotTo(BeNil())
			g.Expect(routedWeight(bad, target)).To(Equal(int32(0)))
		}, 60*time.Second).Should(Succeed())
		By("while the other Canary's webhook still hangs, polled and shown in flight")
		slowest := getCanary(slow)
		Expect(slowest.Status.AbortedAt).To(BeNil())
		Expect(slowest.Status.Hooks).To(ContainElement(And(
			HaveField("Name", "hangs"), HaveField("Phase", v1alpha1.HookRunning),
			HaveField("Message", ContainSubstring("attempt 1 of 3 in flight")))))
		Expect(calls.Load()).To(BeEquivalentTo(1), "polling the attempt in flight does not call the webhook again")
		GinkgoWriter.Printf("rolled back %s after the bad image, with a webhook hanging elsewhere\n",
			time.Since(started).Round(100*time.Millisecond))
	})
})
