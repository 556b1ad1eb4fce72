package bluegreen_test

import (
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

func webhookHook(url string, timeout time.Duration) func(*v1alpha1.BlueGreen) {
	return func(bg *v1alpha1.BlueGreen) {
		bg.Spec.Hooks = append(bg.Spec.Hooks, v1alpha1.BlueGreenHook{
			Name: "integration-tests", Type: v1alpha1.HookPrePromotion,
			HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{
				URL: url, Timeout: &metav1.Duration{Duration: timeout}, Retries: ptr.To(int32(0)),
			}},
		})
	}
}

// expectAbandonedBeforeTheFlip checks that a release failed before the flip
// left the Service on blue and scaled green down, and returns the status.
func expectAbandonedBeforeTheFlip(ns string, colors *apiserver.Changes[v1alpha1.Color]) *v1alpha1.BlueGreen {
	var bg *v1alpha1.BlueGreen
	EventuallyWithOffset(1, func(g Gomega) {
		bg = getBlueGreen(ns)
		g.Expect(bg.Status.AbortedAt).NotTo(BeNil())
		g.Expect(conditionOf(bg, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(replicasOf(ns, green)).To(BeZero(), "the idle color is scaled down")
	}, deadline.Scale(90*time.Second)).Should(Succeed())
	ExpectWithOffset(1, colors.Stop()).To(Equal([]v1alpha1.Color{blue}), "never flipped")
	return bg
}

var _ = Describe("A failing BlueGreen release", func() {
	It("does not flip when a pre-promotion test fails, and says why", func() {
		tests := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "3 of 40 integration tests failed", http.StatusInternalServerError)
		}))
		DeferCleanup(tests.Close)
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, webhookHook(tests.URL, 5*time.Second))
		waitStable(ns)

		colors := recordColors(ns)
		setImage(ns, "orders:v2")
		bg := expectAbandonedBeforeTheFlip(ns, colors)
		Expect(conditionOf(bg, v1alpha1.ConditionStalled).Message).To(ContainSubstring("integration-tests"))
		Expect(bg.Status.Hooks).To(ContainElement(And(
			HaveField("Name", "integration-tests"), HaveField("Phase", v1alpha1.HookFailed),
			HaveField("Message", ContainSubstring("500")))))
	})

	It("fails a pre-promotion webhook that times out", func() {
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}))
		DeferCleanup(slow.Close)
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, webhookHook(slow.URL, time.Second))
		waitStable(ns)

		colors := recordColors(ns)
		setImage(ns, "orders:v2")
		bg := expectAbandonedBeforeTheFlip(ns, colors)
		Expect(bg.Status.Hooks[0].Message).To(ContainSubstring("timed out"))
	})

	It("does not flip when a pre-promotion Job fails", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.Hooks = []v1alpha1.BlueGreenHook{{
				Name: "schema-check", Type: v1alpha1.HookPrePromotion,
				HookAction: v1alpha1.HookAction{Job: &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "check", Image: "orders-tests:v2"}}},
				}}},
			}}
		})
		waitStable(ns)
		colors := recordColors(ns)
		setImage(ns, "orders:v2")

		By("failing the Job as the Job controller would")
		var job batchv1.Job
		Eventually(func(g Gomega) {
			var jobs batchv1.JobList
			g.Expect(k8s.List(ctx, &jobs, client.InNamespace(ns))).To(Succeed())
			g.Expect(jobs.Items).To(HaveLen(1))
			job = jobs.Items[0]
		}).Should(Succeed())
		now := metav1.Now()
		job.Status.StartTime = &now
		job.Status.Failed = 1
		for _, t := range []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobFailed} {
			job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{
				Type: t, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonBackoffLimitExceeded,
				Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now,
			})
		}
		Expect(k8s.Status().Update(ctx, &job)).To(Succeed())

		bg := expectAbandonedBeforeTheFlip(ns, colors)
		Expect(bg.Status.Hooks[0].Phase).To(Equal(v1alpha1.HookFailed))
		Expect(bg.Status.Hooks[0].Message).To(ContainSubstring("backoff limit"))
	})

	It("flips back at once when the post-promotion analysis fails", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.PostPromotionAnalysis = phaseAnalysis("vector(1)", 3)
		})
		stable := waitStable(ns).Status.ActiveRevision
		colors := recordColors(ns)
		setImage(ns, "orders:v2-bad")

		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.AbortedAt).NotTo(BeNil())
			g.Expect(selected(ns, target)).To(Equal(blue))
		}, deadline.Scale(90*time.Second)).Should(Succeed())
		Expect(colors.Stop()).To(Equal([]v1alpha1.Color{blue, green, blue}), "flipped, then flipped back")
		bg := getBlueGreen(ns)
		Expect(bg.Status.ActiveColor).To(Equal(blue))
		Expect(bg.Status.ActiveRevision).To(Equal(stable))
		Expect(replicasOf(ns, blue)).To(Equal(int32(2)), "the old color stayed scaled up for the revert")
		Expect(bg.Status.Analysis.Results[0].Outcome).To(Equal(v1alpha1.OutcomeFailed))
	})

	It("returns traffic to the old color on abort", func() {
		ns := newNamespace()
		newTarget(ns, "orders:v1", 1)
		newBlueGreen(ns, func(bg *v1alpha1.BlueGreen) {
			bg.Spec.PostPromotionAnalysis = phaseAnalysis("vector(0)", 20)
		})
		waitStable(ns)
		setImage(ns, "orders:v2")
		Eventually(func() v1alpha1.Color { return selected(ns, target) }).Should(Equal(green))

		command(ns, v1alpha1.CommandAbort)
		Eventually(func(g Gomega) {
			bg := getBlueGreen(ns)
			g.Expect(bg.Status.AbortedAt).NotTo(BeNil())
			g.Expect(selected(ns, target)).To(Equal(blue))
			g.Expect(bg.Status.LastCommand.Name).To(Equal(v1alpha1.CommandAbort))
		}).Should(Succeed())
	})
})
