package packaging

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// The Prometheus credentials the chart's identity must read from a Secret.
const (
	promSecret   = "prometheus-auth"
	promUser     = "sluice"
	promPassword = "s3cret"
)

// failedLog is what the failed hook pod logged; the fake kubelet serves it.
const failedLog = "migrating orders\ncolumn orders.total_v2 is missing"

// exerciseReleases drives, in ns and under the chart's RBAC, the paths a
// Canary that only becomes Ready never takes: a BlueGreen's Services and
// color Deployments, Job hooks (create, read, and the failed pod's log),
// a provider's credentials Secret, and a Canary's finalizer. Each subtest
// fails on the resulting objects, with the operator's "forbidden" errors.
func exerciseReleases(ctx context.Context, t *testing.T, c client.Client, ns string, log *operatorLog) {
	t.Run("releases", func(t *testing.T) {
		t.Run("a BlueGreen becomes Ready and a failed Job hook reports its pod's log", func(t *testing.T) {
			t.Parallel()
			blueGreenWithFailingJob(ctx, t, c, ns, log)
		})
		t.Run("a Canary release passes a Job hook and a check with credentials from a Secret", func(t *testing.T) {
			t.Parallel()
			canaryWithJobAndCredentials(ctx, t, c, ns, log)
		})
		t.Run("deleting a Canary deletes its generated VirtualService", func(t *testing.T) {
			t.Parallel()
			deleteCanary(ctx, t, c, ns, log)
		})
	})
}

// blueGreenWithFailingJob brings a BlueGreen to Ready, releases a new
// version with a pre-promotion Job hook, fails the Job and checks that the
// run's message ends with its pod's log, read through pods/log.
func blueGreenWithFailingJob(ctx context.Context, t *testing.T, c client.Client, ns string, log *operatorLog) {
	g := NewWithT(t)
	d, _ := releaseObjects(ns, "orders")
	bg := &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: ns},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef:               v1alpha1.TargetRef{Name: "orders"},
			Service:                 v1alpha1.ServicePort{Port: 9898},
			ProgressDeadlineSeconds: 60,
			Hooks: []v1alpha1.BlueGreenHook{{
				Name: "migrate", Type: v1alpha1.HookPrePromotion,
				HookAction: v1alpha1.HookAction{Job: jobHook("migrate")},
			}},
		},
	}
	g.Expect(c.Create(ctx, d)).To(Succeed())
	g.Expect(c.Create(ctx, bg)).To(Succeed())

	key := client.ObjectKeyFromObject(bg)
	g.Eventually(ctx, func(g Gomega) {
		g.Expect(c.Get(ctx, key, bg)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(bg.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue(),
			"the BlueGreen is Ready; status %+v", bg.Status)
		active := &appsv1.Deployment{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: workload.ColorName("orders", bg.Status.ActiveColor)}, active)).
			To(Succeed(), "the active color's Deployment exists")
		svc := &corev1.Service{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: workload.ApexName("orders")}, svc)).To(Succeed())
		g.Expect(svc.Spec.Selector).To(HaveKeyWithValue(workload.LabelColor, string(bg.Status.ActiveColor)),
			"the active Service selects the active color")
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: workload.PreviewName("orders")}, svc)).
			To(Succeed(), "the preview Service exists")
	}).WithTimeout(deadline.Scale(20*time.Second)).WithPolling(200*time.Millisecond).Should(Succeed(), log.Forbidden)

	setImage(ctx, g, c, d, "podinfo:6.1.0")
	job := waitJob(ctx, g, c, ns, "orders", "migrate", log)
	node := fakeKubelet(ctx, t, c, "kubelet-"+ns, failedLog)
	failJob(ctx, g, c, job, node)
	g.Eventually(ctx, func(g Gomega) {
		g.Expect(c.Get(ctx, key, bg)).To(Succeed())
		g.Expect(bg.Status.Hooks).To(ContainElement(And(
			HaveField("Name", "migrate"), HaveField("Phase", v1alpha1.HookFailed))), "the hook failed")
		run := bg.Status.Hooks[0]
		g.Expect(run.Message).To(ContainSubstring("column orders.total_v2 is missing"),
			"the message ends with the failed pod's log, read through pods/log (get); "+
				"\"could not be read\" means the API server refused it")
	}).WithTimeout(deadline.Scale(15*time.Second)).WithPolling(200*time.Millisecond).Should(Succeed(), log.Forbidden)
}

// canaryWithJobAndCredentials releases a new version of a Canary with a
// pre-rollout Job hook and an analysis whose provider needs basic
// authentication from a Secret, and checks that the release is promoted.
func canaryWithJobAndCredentials(ctx context.Context, t *testing.T, c client.Client, ns string, log *operatorLog) {
	g := NewWithT(t)
	prom := prometheusStub(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: promSecret, Namespace: ns,
			Labels: map[string]string{analysis.LabelProviderCredentials: "true"}},
		StringData: map[string]string{"username": promUser, "password": promPassword},
	}
	d, canary := releaseObjects(ns, "checkout")
	canary.Spec.Hooks = []v1alpha1.CanaryHook{{
		Name: "smoke", Type: v1alpha1.HookPreRollout, HookAction: v1alpha1.HookAction{Job: jobHook("smoke")},
	}}
	canary.Spec.Analysis = &v1alpha1.Analysis{
		Interval:     &metav1.Duration{Duration: 5 * time.Second},
		FailureLimit: 1,
		Provider: &v1alpha1.MetricProvider{
			Type: v1alpha1.ProviderPrometheus, Address: prom.URL,
			SecretRef: &corev1.LocalObjectReference{Name: promSecret},
			// The stub serves plain http on loopback.
			AllowInsecureCredentials: true,
		},
		Metrics: []v1alpha1.Metric{{
			Name: "error-rate", Query: `sum(rate(http_errors_total{app="checkout"}[1m]))`,
			ThresholdRange: v1alpha1.ThresholdRange{Max: ptr.To(0.5)},
		}},
	}
	for _, o := range []client.Object{secret, d, canary} {
		g.Expect(c.Create(ctx, o)).To(Succeed())
	}
	key := client.ObjectKeyFromObject(canary)
	g.Eventually(ctx, func(g Gomega) {
		g.Expect(c.Get(ctx, key, canary)).To(Succeed())
		g.Expect(canary.Status.StableRevision).NotTo(BeEmpty(), "the first version is stable")
	}).WithTimeout(deadline.Scale(20*time.Second)).WithPolling(200*time.Millisecond).Should(Succeed(), log.Forbidden)

	rev := setImage(ctx, g, c, d, "podinfo:6.1.0")
	job := waitJob(ctx, g, c, ns, "checkout", "smoke", log)
	completeJob(ctx, g, c, job)
	g.Eventually(ctx, func(g Gomega) {
		g.Expect(c.Get(ctx, key, canary)).To(Succeed())
		g.Expect(canary.Status.Hooks).To(ContainElement(And(HaveField("Name", "smoke"),
			HaveField("Revision", rev), HaveField("Phase", v1alpha1.HookSucceeded))), "the Job hook succeeded")
		g.Expect(canary.Status.Analysis).NotTo(BeNil(), "the analysis ran")
		g.Expect(canary.Status.Analysis.Results).To(ContainElement(And(HaveField("Name", "error-rate"),
			HaveField("Outcome", v1alpha1.OutcomePassed))), "the check, authenticated with the Secret's credentials, passed")
		g.Expect(canary.Status.StableRevision).To(Equal(rev), "the release was promoted")
	}).WithTimeout(deadline.Scale(30*time.Second)).WithPolling(200*time.Millisecond).Should(Succeed(), log.Forbidden)
}

// deleteCanary deletes the Ready podinfo Canary and checks that its
// finalizer ran: the generated VirtualService is deleted (envtest has no
// garbage collector, so only the operator deletes it) and the Canary goes.
func deleteCanary(ctx context.Context, t *testing.T, c client.Client, ns string, log *operatorLog) {
	g := NewWithT(t)
	key := client.ObjectKey{Namespace: ns, Name: "podinfo"}
	g.Expect(c.Get(ctx, key, &istionetworking.VirtualService{})).To(Succeed(), "the Canary generated a VirtualService")
	g.Expect(c.Delete(ctx, &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: ns}})).To(Succeed())
	g.Eventually(ctx, func(g Gomega) {
		err := c.Get(ctx, key, &istionetworking.VirtualService{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the generated VirtualService is deleted (get: %v)", err)
		err = c.Get(ctx, key, &v1alpha1.Canary{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Canary's finalizer completed (get: %v)", err)
	}).WithTimeout(deadline.Scale(15*time.Second)).WithPolling(200*time.Millisecond).Should(Succeed(), log.Forbidden)
}

// jobHook is a Job hook running one container named name.
func jobHook(name string) *v1alpha1.JobHook {
	return &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: name, Image: "podinfo-tests:6.1.0"}},
	}}}
}

// setImage changes the image of d, starting a release, and returns the new
// revision.
func setImage(ctx context.Context, g *WithT, c client.Client, d *appsv1.Deployment, image string) string {
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = image
	g.Expect(c.Patch(ctx, d, patch)).To(Succeed())
	return workload.Revision(&d.Spec.Template)
}

// waitJob waits for the Job the operator creates for hook of owner and
// checks that the owner controls it.
func waitJob(ctx context.Context, g *WithT, c client.Client, ns, owner, hook string, log *operatorLog) *batchv1.Job {
	jobs := &batchv1.JobList{}
	g.Eventually(ctx, func(g Gomega) {
		g.Expect(c.List(ctx, jobs, client.InNamespace(ns), client.MatchingLabels{
			hooks.LabelOwner: owner, hooks.LabelHook: hook,
		})).To(Succeed())
		g.Expect(jobs.Items).To(HaveLen(1), "the operator created the Job of hook %s", hook)
	}).WithTimeout(deadline.Scale(15*time.Second)).WithPolling(200*time.Millisecond).Should(Succeed(), log.Forbidden)
	job := &jobs.Items[0]
	g.Expect(metav1.GetControllerOf(job)).To(HaveField("Name", owner), "the Job belongs to %s", owner)
	return job
}

// completeJob marks job succeeded, as the Job controller would.
func completeJob(ctx context.Context, g *WithT, c client.Client, job *batchv1.Job) {
	now := metav1.Now()
	job.Status.StartTime, job.Status.CompletionTime, job.Status.Succeeded = &now, &now, 1
	for _, typ := range []batchv1.JobConditionType{batchv1.JobSuccessCriteriaMet, batchv1.JobComplete} {
		job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{
			Type: typ, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached,
			Message: "Reached expected number of succeeded pods", LastProbeTime: now, LastTransitionTime: now,
		})
	}
	g.Expect(c.Status().Update(ctx, job)).To(Succeed())
}

// failJob runs one pod of job on node, failed with exit code 1, and marks
// job failed, as the Job controller and the kubelet would.
func failJob(ctx context.Context, g *WithT, c client.Client, job *batchv1.Job, node string) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name + "-0", Namespace: job.Namespace, Labels: job.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))},
		},
		Spec: *job.Spec.Template.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = node
	g.Expect(c.Create(ctx, pod)).To(Succeed())
	now := metav1.Now()
	container := pod.Spec.Containers[0]
	pod.Status = corev1.PodStatus{Phase: corev1.PodFailed, StartTime: &now, ContainerStatuses: []corev1.ContainerStatus{{
		Name: container.Name, Image: container.Image, ImageID: "docker.io/" + container.Image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: now}},
	}}}
	g.Expect(c.Status().Update(ctx, pod)).To(Succeed())

	job.Status.StartTime, job.Status.Failed = &now, 1
	for _, typ := range []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobFailed} {
		job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{
			Type: typ, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonBackoffLimitExceeded,
			Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now,
		})
	}
	g.Expect(c.Status().Update(ctx, job)).To(Succeed())
}

// fakeKubelet registers a Node named name whose kubelet is an HTTPS server
// answering every container log request with text, so that the API server
// can serve pods/log for pods on it (envtest has no kubelet). It returns
// the Node's name.
func fakeKubelet(ctx context.Context, t *testing.T, c client.Client, name, text string) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/containerLogs/") {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprintln(w, text)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(ctx, node); err != nil {
		t.Fatalf("create Node %s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), node) })
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: u.Hostname()}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
	}
	if err := c.Status().Update(ctx, node); err != nil {
		t.Fatalf("set the address of Node %s: %v", name, err)
	}
	return name
}

// prometheusStub answers the Prometheus instant query API with one sample
// of 0.01, and 401 to a request without promUser's basic authentication.
func prometheusStub(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if user, password, ok := r.BasicAuth(); !ok || user != promUser || password != promPassword {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprint(w, `{"status":"error","errorType":"unauthorized","error":"no valid basic authentication"}`)
			return
		}
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"0.01"]}]}}`,
			time.Now().Unix())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// operatorLog keeps the operator's log lines that say an API request was
// forbidden, to explain a failed assertion.
type operatorLog struct {
	mu    sync.Mutex
	lines []string
}

// maxForbidden bounds the lines Forbidden returns.
const maxForbidden = 5

// Logger returns a logger that records into l.
func (l *operatorLog) Logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		if !strings.Contains(args, "forbidden") {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{})
}

// Forbidden describes the forbidden requests logged so far.
func (l *operatorLog) Forbidden() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "the operator logged no forbidden request"
	}
	first := l.lines[:min(len(l.lines), maxForbidden)]
	return fmt.Sprintf("the operator logged %d forbidden requests, the first:\n%s", len(l.lines), strings.Join(first, "\n"))
}
