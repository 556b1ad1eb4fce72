package packaging

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// TestHelmInstallWait installs the chart with `helm install --wait` into a
// local control plane whose scheduler places the manager's pods on kwok's
// fake nodes (no image is pulled, no container runs), checks that the
// manager Deployment is Available with its two replicas and that helm
// installed the CRDs from crds/, then uninstalls it: the Deployment goes,
// the CRDs stay (helm never deletes them, as docs/install.md says).
//
// The release namespace enforces the restricted Pod Security Standard, so
// kube-apiserver's PodSecurity admission judges the chart's securityContext:
// a pod that violates it is refused, and the Deployment never becomes
// Available.
func TestHelmInstallWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(3*time.Minute))
	defer cancel()
	// No CRDs up front: helm installs them from the chart's crds/.
	c, err := cluster.Start(ctx, cluster.Options{Nodes: 2})
	if err != nil {
		t.Fatalf("start the local control plane: %v", err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the local control plane: %v", err)
		}
	}()
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	k8s, err := client.New(c.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	restrictedNamespace(ctx, t, k8s)

	out, err := runHelm(t, "install", release, "charts/sluice", "--kubeconfig", c.KubeconfigPath(),
		"--namespace", namespace, "--wait", "--timeout", "2m")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"STATUS: deployed", "kubectl sluice status", "kubectl apply -k config/samples", "docs/install.md"} {
		if !strings.Contains(out, want) {
			t.Errorf("helm install printed no %q (NOTES.txt):\n%s", want, out)
		}
	}
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release}, d); err != nil {
		t.Fatalf("get the manager Deployment: %v", err)
	}
	available := false
	for _, cond := range d.Status.Conditions {
		available = available || (cond.Type == appsv1.DeploymentAvailable && cond.Status == "True")
	}
	if !available || d.Status.ReadyReplicas != 2 || d.Status.AvailableReplicas != 2 {
		t.Errorf("after helm install --wait the manager Deployment is not Available with 2 replicas: %+v", d.Status)
	}
	for _, name := range []string{"canaries.rollouts.sluice.dev", "bluegreens.rollouts.sluice.dev"} {
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, &apiextensionsv1.CustomResourceDefinition{}); err != nil {
			t.Errorf("CRD %s was not installed from the chart's crds/: %v", name, err)
		}
	}

	if _, err := runHelm(t, "uninstall", release, "--kubeconfig", c.KubeconfigPath(), "--namespace", namespace, "--wait", "--timeout", "1m"); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Errorf("after helm uninstall, getting the manager Deployment returned %v, want NotFound", err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "canaries.rollouts.sluice.dev"}, &apiextensionsv1.CustomResourceDefinition{}); err != nil {
		t.Errorf("helm uninstall removed the Canary CRD (and with it every Canary): %v", err)
	}
}

// restrictedNamespace creates the release namespace enforcing the restricted
// Pod Security Standard, and checks that the API server enforces it: a pod
// with no securityContext is refused.
func restrictedNamespace(ctx context.Context, t *testing.T, k8s client.Client) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace %s: %v", namespace, err)
	}
	bare := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "bare"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	err := k8s.Create(ctx, bare, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("a pod with no securityContext in namespace %s was not refused by PodSecurity admission (got %v): "+
			"the test would not catch a chart that breaks the restricted standard", namespace, err)
	}
}
