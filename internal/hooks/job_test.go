package hooks_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/hooks"
)

// logStub is a LogReader that hands out a fixed log and remembers which Jobs
// it was asked about.
type logStub struct {
	log  hooks.PodLog
	err  error
	jobs []string
}

func (l *logStub) FailedPodLog(_ context.Context, job *batchv1.Job) (hooks.PodLog, error) {
	l.jobs = append(l.jobs, job.Name)
	return l.log, l.err
}

// canaryWithJobHook creates a Canary in ns whose only hook is a Job running
// template, and returns it as the API server stored it (with defaults).
func canaryWithJobHook(ns string, template corev1.PodTemplateSpec) *v1alpha1.Canary {
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Name: "podinfo"},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps:          []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](10)}},
			Hooks: []v1alpha1.CanaryHook{{
				Name: "db-check", Type: v1alpha1.HookPreRollout,
				HookAction: v1alpha1.HookAction{Job: &v1alpha1.JobHook{Template: template}},
			}},
		},
	}
	Expect(k8sClient.Create(ctx, c)).To(Succeed())
	return c
}

func busybox() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"team": "shop"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "check", Image: "busybox:1.37", Command: []string{"sh", "-c", "exit 0"},
		}}},
	}
}

// finishJob writes a finished Job's status as the Job controller does: the
// API server refuses Complete without SuccessCriteriaMet, Failed without
// FailureTarget, and either without startTime (and Complete without
// completionTime).
func finishJob(job *batchv1.Job, passed bool, at time.Time) {
	start, end := metav1.NewTime(at.Add(-30*time.Second)), metav1.NewTime(at)
	job.Status.StartTime = &start
	cond := func(t batchv1.JobConditionType, reason, msg string) batchv1.JobCondition {
		return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
			LastProbeTime: end, LastTransitionTime: end}
	}
	if passed {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &end
		job.Status.Conditions = []batchv1.JobCondition{
			cond(batchv1.JobSuccessCriteriaMet, "CompletionsReached", "Reached expected number of succeeded pods"),
			cond(batchv1.JobComplete, "CompletionsReached", "Reached expected number of succeeded pods"),
		}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"),
			cond(batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"),
		}
	}
	Expect(k8sClient.Status().Update(ctx, job)).To(Succeed())
}

var _ = Describe("A Job hook", func() {
	var (
		ns     string
		clk    time.Time
		runner *hooks.Runner
		logs   *logStub
	)

	BeforeEach(func() {
		ns = newNamespace()
		clk = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		logs = &logStub{}
		runner = &hooks.Runner{Client: k8sClient, Logs: logs, Now: func() time.Time { return clk }}
	})

	// run calls the runner for the Canary's hook, as a reconciler would.
	run := func(c *v1alpha1.Canary, prev *v1alpha1.HookStatus) v1alpha1.HookStatus {
		st, err := runner.Run(ctx, c, hooks.FromCanary(c.Spec.Hooks[0]), "7d9f8c6b5", prev)
		Expect(err).NotTo(HaveOccurred())
		return st
	}
	getJob := func(c *v1alpha1.Canary) *batchv1.Job {
		job := &batchv1.Job{}
		key := client.ObjectKey{Namespace: c.Namespace, Name: hooks.JobName(c.Name, "db-check", "7d9f8c6b5")}
		Expect(k8sClient.Get(ctx, key, job)).To(Succeed())
		return job
	}
	jobsIn := func(ns string) []batchv1.Job {
		var list batchv1.JobList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		return list.Items
	}

	It("creates a Job with the deterministic name, an owner reference and the hook's settings", func() {
		c := canaryWithJobHook(ns, busybox())

		st := run(c, nil)

		name := hooks.JobName("podinfo", "db-check", "7d9f8c6b5")
		Expect(st).To(Equal(v1alpha1.HookStatus{
			Name: "db-check", Type: "pre-rollout", Revision: "7d9f8c6b5", Phase: v1alpha1.HookRunning,
			Attempts: 1, StartedAt: ptr.To(metav1.NewTime(clk)), Message: "Job " + name + " created",
		}))
		job := getJob(c)
		Expect(job.Name).To(Equal(name))
		Expect(job.Name).To(MatchRegexp(`^podinfo-db-check-[0-9a-f]{10}$`))
		Expect(job.OwnerReferences).To(ConsistOf(metav1.OwnerReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "Canary", Name: "podinfo", UID: c.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}))
		Expect(job.Labels).To(Equal(map[string]string{
			hooks.LabelManagedBy: "sluice", hooks.LabelOwnerKind: "Canary", hooks.LabelOwner: "podinfo",
			hooks.LabelHook: "db-check", hooks.LabelHookType: "pre-rollout", hooks.LabelRevision: "7d9f8c6b5",
		}))
		Expect(job.Spec.Template.Labels).To(HaveKeyWithValue("team", "shop"))
		Expect(job.Spec.Template.Labels).To(HaveKeyWithValue(hooks.LabelHook, "db-check"))
		Expect(job.Spec.Template.Spec.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
		Expect(job.Spec.Template.Spec.Containers[0].Image).To(Equal("busybox:1.37"))
		// The CRD's defaults for the hook: 600 s, no pod retries.
		Expect(job.Spec.ActiveDeadlineSeconds).To(Equal(ptr.To[int64](600)))
		Expect(job.Spec.BackoffLimit).To(Equal(ptr.To[int32](0)))
		Expect(job.Spec.TTLSecondsAfterFinished).To(Equal(ptr.To[int32](3600)))
	})

	It("does not mount the default ServiceAccount's token unless the template asks", func() {
		c := canaryWithJobHook(ns, busybox())
		run(c, nil)
		Expect(getJob(c).Spec.Template.Spec.AutomountServiceAccountToken).To(Equal(ptr.To(false)))

		other := newNamespace()
		tmpl := busybox()
		tmpl.Spec.AutomountServiceAccountToken = ptr.To(true)
		c = canaryWithJobHook(other, tmpl)
		run(c, nil)
		Expect(getJob(c).Spec.Template.Spec.AutomountServiceAccountToken).To(Equal(ptr.To(true)))
	})

	It("creates no Job that would run as a ServiceAccount the policy does not allow", func() {
		tmpl := busybox()
		tmpl.Spec.ServiceAccountName = "db-admin"
		c := canaryWithJobHook(ns, tmpl)

		st := run(c, nil)

		Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
		Expect(st.Message).To(HavePrefix(`hook "db-check": the Job would run as ServiceAccount "db-admin"`))
		Expect(jobsIn(ns)).To(BeEmpty())

		By("running it once the operator allows that ServiceAccount")
		runner.Policy = hooks.JobPolicy{ServiceAccounts: []string{"db-admin"}}
		st = run(c, nil)
		Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
		Expect(getJob(c).Spec.Template.Spec.ServiceAccountName).To(Equal("db-admin"))
		Expect(getJob(c).Spec.Template.Spec.AutomountServiceAccountToken).To(BeNil(), "an allowed account keeps its own setting")
	})

	It("creates no Job in the operator's own namespace", func() {
		runner.Policy = hooks.JobPolicy{OperatorNamespace: ns}
		c := canaryWithJobHook(ns, busybox())

		st := run(c, nil)

		Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
		Expect(st.Message).To(ContainSubstring("Sluice runs no Job hooks in namespace " + ns + ", its own"))
		Expect(jobsIn(ns)).To(BeEmpty())
	})

	It("creates one Job however often it is called, even when status was lost", func() {
		c := canaryWithJobHook(ns, busybox())

		first := run(c, nil)
		clk = clk.Add(time.Minute)
		second := run(c, &first)
		third := run(c, nil)

		Expect(jobsIn(ns)).To(HaveLen(1))
		Expect(second.Attempts).To(BeEquivalentTo(1))
		Expect(second.StartedAt).To(Equal(first.StartedAt))
		Expect(second.Phase).To(Equal(v1alpha1.HookRunning))
		// With status lost, the run's start is read from the Job.
		Expect(third.Attempts).To(BeEquivalentTo(1))
		Expect(third.StartedAt.Time).To(BeTemporally("~", getJob(c).CreationTimestamp.Time))
	})

	It("reports a running Job's pods while it runs", func() {
		c := canaryWithJobHook(ns, busybox())
		st := run(c, nil)
		job := getJob(c)
		job.Status.StartTime = ptr.To(metav1.NewTime(clk))
		job.Status.Active = 1
		Expect(k8sClient.Status().Update(ctx, job)).To(Succeed())

		st = run(c, &st)

		Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
		Expect(st.Message).To(Equal(fmt.Sprintf("Job %s running: 1 active, 0 succeeded, 0 failed pods", job.Name)))
		Expect(runner.RequeueAfter(hooks.FromCanary(c.Spec.Hooks[0]), st)).To(Equal(hooks.JobPollInterval))
	})

	It("passes when the Job completes, and never looks again", func() {
		c := canaryWithJobHook(ns, busybox())
		st := run(c, nil)
		finishJob(getJob(c), true, clk.Add(2*time.Minute))

		st = run(c, &st)

		Expect(st.Phase).To(Equal(v1alpha1.HookSucceeded))
		Expect(st.FinishedAt.Time).To(BeTemporally("==", clk.Add(2*time.Minute)))
		Expect(st.Message).To(Equal(fmt.Sprintf("Job %s succeeded", getJob(c).Name)))

		// Once finished, the run is not repeated: with the Job gone, no new
		// one is created.
		Expect(k8sClient.Delete(ctx, getJob(c), client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Expect(run(c, &st)).To(Equal(st))
		Expect(jobsIn(ns)).To(BeEmpty())
		Expect(runner.RequeueAfter(hooks.FromCanary(c.Spec.Hooks[0]), st)).To(BeZero())
	})

	It("replaces a Job left by an earlier run of the same revision instead of reusing its result", func() {
		c := canaryWithJobHook(ns, busybox())
		first := run(c, nil)
		finishJob(getJob(c), false, clk.Add(time.Minute))
		Expect(run(c, &first).Phase).To(Equal(v1alpha1.HookFailed))

		By("retrying the release: a new run of the same hook for the same revision, started later")
		later := metav1.NewTime(time.Now().Add(time.Hour))
		retry := v1alpha1.HookStatus{Name: "db-check", Type: "pre-rollout", Revision: "7d9f8c6b5",
			Phase: v1alpha1.HookRunning, StartedAt: &later}
		st := run(c, &retry)
		Expect(st.Phase).To(Equal(v1alpha1.HookRunning), "the old Job's failure is not this run's")
		Expect(st.Message).To(ContainSubstring("left by an earlier run"))
		Eventually(func() []batchv1.Job { return jobsIn(ns) }).Should(BeEmpty())

		st = run(c, &st)
		Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
		Expect(jobsIn(ns)).To(HaveLen(1), "a fresh Job runs for the retry")
	})

	It("fails when the Job fails, with the condition's reason and the end of the pod's log", func() {
		c := canaryWithJobHook(ns, busybox())
		st := run(c, nil)
		var log strings.Builder
		for i := 1; i <= 20; i++ {
			fmt.Fprintf(&log, "check %02d\n", i)
		}
		log.WriteString("\nFATAL: table orders has no column region\n")
		logs.log = hooks.PodLog{Pod: "db-check-x7k2p", Container: "check", Text: log.String()}
		finishJob(getJob(c), false, clk.Add(time.Minute))

		st = run(c, &st)

		Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
		Expect(st.FinishedAt.Time).To(BeTemporally("==", clk.Add(time.Minute)))
		Expect(logs.jobs).To(Equal([]string{getJob(c).Name}))
		Expect(st.Message).To(Equal(fmt.Sprintf("Job %s failed (BackoffLimitExceeded): Job has reached the specified "+
			"backoff limit; last lines of pod db-check-x7k2p container check: check 12 | check 13 | check 14 | "+
			"check 15 | check 16 | check 17 | check 18 | check 19 | check 20 | FATAL: table orders has no column region",
			getJob(c).Name)))
	})

	It("fails with the condition's message alone when the log cannot be read", func() {
		c := canaryWithJobHook(ns, busybox())
		st := run(c, nil)
		logs.err = apierrors.NewNotFound(corev1.Resource("pods"), "db-check-x7k2p")
		finishJob(getJob(c), false, clk)

		st = run(c, &st)

		Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
		Expect(st.Message).To(HaveSuffix(`its log could not be read: pods "db-check-x7k2p" not found`))
	})

	It("fails with the API server's message when the pod template is invalid", func() {
		// The Canary's schema refuses a template that is not a pod template;
		// what only the Job API checks (an image) is refused when the Job is.
		c := canaryWithJobHook(ns, corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "check"}}}})

		st := run(c, nil)

		Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
		Expect(st.Attempts).To(BeEquivalentTo(1))
		Expect(st.FinishedAt.Time).To(Equal(clk))
		Expect(st.Message).To(HavePrefix("the API server refused Job " + hooks.JobName("podinfo", "db-check", "7d9f8c6b5")))
		Expect(st.Message).To(ContainSubstring("spec.template.spec.containers[0].image: Required value"))
		Expect(jobsIn(ns)).To(BeEmpty())
	})

	It("fails rather than adopt a Job of the same name that another owner made", func() {
		c := canaryWithJobHook(ns, busybox())
		stranger := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: hooks.JobName("podinfo", "db-check", "7d9f8c6b5"), Namespace: ns},
			Spec:       batchv1.JobSpec{Template: busybox()},
		}
		stranger.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		Expect(k8sClient.Create(ctx, stranger)).To(Succeed())

		st := run(c, nil)

		Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
		Expect(st.Message).To(ContainSubstring("exists but does not belong to podinfo"))
	})
})
