package cluster

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// waitTimeout bounds every wait for the cluster to act. kwok makes pods
// ready at once: a few seconds are plenty; the deadline bounds a hang.
var waitTimeout = deadline.Scale(30 * time.Second)

// TestCluster starts one cluster, checks that it runs workloads the way a
// real one does, then stops it. The subtests share the cluster and run in
// order; the last one stops it.
func TestCluster(t *testing.T) {
	crds, err := DefaultCRDs()
	if err != nil {
		t.Fatalf("list the CRDs: %v", err)
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // a loaded CI machine starts it slowly
	defer cancel()
	c, err := Start(ctx, Options{CRDs: crds, Log: t.Output()})
	if err != nil {
		t.Fatalf("start the cluster: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() }) // in case a subtest stops the test early
	t.Logf("Start took %s", time.Since(began).Round(time.Millisecond))
	cfg := c.Config()
	cfg.QPS, cfg.Burst = 100, 200 // the waits below poll often
	k8s := kubernetes.NewForConfigOrDie(cfg)

	t.Run("Sluice's, Istio's and the Gateway API's CRDs are served", func(t *testing.T) {
		testCRDs(t, k8s)
	})
	t.Run("a Deployment of 3 replicas becomes Available on the kwok node, then scales down to 1", func(t *testing.T) {
		testDeployment(t, k8s, c.Nodes()[0])
	})
	t.Run("a namespace created later gets a default ServiceAccount and its pods run", func(t *testing.T) {
		testLateNamespace(t, k8s)
	})
	t.Run("a Job completes", func(t *testing.T) {
		testJob(t, k8s)
	})
	t.Run("the kubeconfig file reaches the API server as the administrator", func(t *testing.T) {
		testKubeconfig(t, c.KubeconfigPath())
	})
	t.Run("Stop ends every process and removes the temporary directory", func(t *testing.T) {
		testStop(t, c)
	})
}

func testCRDs(t *testing.T, k8s kubernetes.Interface) {
	g := NewWithT(t)
	for groupVersion, resource := range map[string]string{
		"rollouts.sluice.dev/v1alpha1":      "canaries",
		"networking.istio.io/v1":            "virtualservices",
		"gateway.networking.k8s.io/v1":      "httproutes",
		"gateway.networking.k8s.io/v1beta1": "referencegrants",
	} {
		list, err := k8s.Discovery().ServerResourcesForGroupVersion(groupVersion)
		g.Expect(err).NotTo(HaveOccurred(), groupVersion)
		g.Expect(list.APIResources).To(ContainElement(HaveField("Name", resource)), groupVersion)
	}
}

func testDeployment(t *testing.T, k8s kubernetes.Interface, node string) {
	g := NewWithT(t)
	ns := createNamespace(t, k8s)
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       podSpec(),
			},
		},
	}
	created := time.Now()
	_, err := k8s.AppsV1().Deployments(ns).Create(t.Context(), deploy, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func(g Gomega) {
		d, err := k8s.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d.Status.AvailableReplicas).To(BeEquivalentTo(3))
		g.Expect(d.Status.Conditions).To(ContainElement(And(
			HaveField("Type", appsv1.DeploymentAvailable),
			HaveField("Status", corev1.ConditionTrue),
		)))
	}).WithTimeout(waitTimeout).Should(Succeed())
	t.Logf("the Deployment of 3 replicas was Available %s after it was created", time.Since(created).Round(time.Millisecond))

	pods, err := k8s.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=web"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pods.Items).To(HaveLen(3))
	for _, pod := range pods.Items {
		g.Expect(pod.Spec.NodeName).To(Equal(node), "pod %s", pod.Name)
		g.Expect(pod.Status.PodIP).NotTo(BeEmpty(), "pod %s", pod.Name)
		g.Expect(pod.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.PodReady),
			HaveField("Status", corev1.ConditionTrue),
		)), "pod %s", pod.Name)
	}

	_, err = k8s.AppsV1().Deployments(ns).Patch(t.Context(), "web", types.MergePatchType,
		[]byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func(g Gomega) {
		pods, err := k8s.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=web"})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pods.Items).To(HaveLen(1))
	}).WithTimeout(waitTimeout).Should(Succeed())
}

func testLateNamespace(t *testing.T, k8s kubernetes.Interface) {
	g := NewWithT(t)
	ns := createNamespace(t, k8s)
	g.Eventually(func() error {
		_, err := k8s.CoreV1().ServiceAccounts(ns).Get(t.Context(), "default", metav1.GetOptions{})
		return err
	}).WithTimeout(waitTimeout).Should(Succeed())
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, Spec: podSpec()}
	pod, err := k8s.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	// The ServiceAccount admission plugin, which envtest turns off, mounts
	// the account's token.
	g.Expect(pod.Spec.Volumes).To(ContainElement(HaveField("Name", HavePrefix("kube-api-access-"))))
	g.Eventually(func(g Gomega) {
		pod, err := k8s.CoreV1().Pods(ns).Get(t.Context(), "app", metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pod.Spec.NodeName).NotTo(BeEmpty())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
	}).WithTimeout(waitTimeout).Should(Succeed())
}

func testJob(t *testing.T, k8s kubernetes.Interface) {
	g := NewWithT(t)
	ns := createNamespace(t, k8s)
	spec := podSpec()
	spec.RestartPolicy = corev1.RestartPolicyNever
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: ns},
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
	}
	_, err := k8s.BatchV1().Jobs(ns).Create(t.Context(), job, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func(g Gomega) {
		job, err := k8s.BatchV1().Jobs(ns).Get(t.Context(), "migrate", metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(job.Status.Succeeded).To(BeEquivalentTo(1))
		g.Expect(job.Status.Conditions).To(ContainElement(And(
			HaveField("Type", batchv1.JobComplete),
			HaveField("Status", corev1.ConditionTrue),
		)))
	}).WithTimeout(waitTimeout).Should(Succeed())
}

func testKubeconfig(t *testing.T, path string) {
	g := NewWithT(t)
	info, err := os.Stat(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	g.Expect(err).NotTo(HaveOccurred())
	k8s, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	review, err := k8s.AuthenticationV1().SelfSubjectReviews().Create(t.Context(),
		&authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(review.Status.UserInfo.Username).To(Equal(AdminUser))
	g.Expect(review.Status.UserInfo.Groups).To(ContainElement("system:masters"))
}

func testStop(t *testing.T, c *Cluster) {
	g := NewWithT(t)
	g.Expect(c.procs).To(HaveLen(5))
	g.Expect(c.Stop()).To(Succeed())
	for _, p := range c.procs {
		err := syscall.Kill(p.Pid(), 0)
		g.Expect(errors.Is(err, syscall.ESRCH)).To(BeTrue(), "%s (pid %d) still exists: kill -0 returned %v", p.Name(), p.Pid(), err)
	}
	_, err := os.Stat(c.Dir())
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "stat %s after Stop: %v", c.Dir(), err)
	g.Expect(c.Stop()).To(Succeed(), "a second Stop")
}

// createNamespace creates a namespace of a generated name.
func createNamespace(t *testing.T, k8s kubernetes.Interface) string {
	t.Helper()
	ns, err := k8s.CoreV1().Namespaces().Create(t.Context(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create a namespace: %v", err)
	}
	return ns.Name
}

// podSpec is one container that never runs: kwok only reports it running.
func podSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}
}
