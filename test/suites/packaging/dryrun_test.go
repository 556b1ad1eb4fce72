package packaging

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// fieldOwner is the field manager of the tests' server-side applies.
const fieldOwner = client.FieldOwner("sluice-packaging-test")

// TestManifestsPassServerSideDryRun applies what the chart renders (default
// and non-default values) and what config/default builds to a real
// kube-apiserver with server-side apply in dry-run mode: the API server
// validates every object against its schema (and the CRDs against the
// apiextensions rules) without persisting any.
func TestManifestsPassServerSideDryRun(t *testing.T) {
	t.Parallel()
	env := apiServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(time.Minute))
	defer cancel()
	// Namespaced objects are checked against their namespace even in a dry
	// run, so the namespaces the manifests name exist for real.
	for _, ns := range []string{namespace, "shop", "payments", "monitoring"} {
		ensureNamespace(ctx, t, env.Client, ns)
	}
	for name, objs := range map[string][]*unstructured.Unstructured{
		"chart, default values":     render(t, "--include-crds"),
		"chart, non-default values": render(t, "--include-crds", "-f", valuesFile(t, nonDefaultValues)),
		"config/default":            kustomize(t, "config/default"),
	} {
		applied := 0
		for _, o := range objs {
			// The prometheus-operator CRDs are neither in the Go module cache
			// nor in envtest, so the API server does not serve ServiceMonitor;
			// TestChartNonDefaults and TestKustomizeServiceMonitor check it.
			if o.GetKind() == "ServiceMonitor" {
				continue
			}
			err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), fieldOwner, client.ForceOwnership, client.DryRunAll)
			if err != nil {
				t.Errorf("%s: server-side dry run of %s %s/%s: %v", name, o.GetKind(), o.GetNamespace(), o.GetName(), err)
			}
			applied++
		}
		if applied < len(defaultObjects) {
			t.Errorf("%s: only %d objects applied", name, applied)
		}
	}
	// A dry run persists nothing: the manager's Deployment must not exist.
	var probe unstructured.Unstructured
	probe.SetAPIVersion("apps/v1")
	probe.SetKind("Deployment")
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release}, &probe)
	if !apierrors.IsNotFound(err) {
		t.Errorf("after a dry run, getting Deployment %s/%s returned %v, want NotFound", namespace, release, err)
	}
}

// TestDryRunRejectsAnInvalidManifest shows that the dry run above checks
// something: the API server refuses a Deployment whose selector does not
// match its pods.
func TestDryRunRejectsAnInvalidManifest(t *testing.T) {
	t.Parallel()
	env := apiServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(30*time.Second))
	defer cancel()
	ensureNamespace(ctx, t, env.Client, namespace)
	d := find(t, render(t), "Deployment", namespace, release)
	if err := unstructured.SetNestedStringMap(d.Object, map[string]string{"app": "other"}, "spec", "selector", "matchLabels"); err != nil {
		t.Fatal(err)
	}
	err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(d), fieldOwner, client.ForceOwnership, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "selector") {
		t.Errorf("a Deployment whose selector does not match its template was accepted (err %v)", err)
	}
}

func ensureNamespace(ctx context.Context, t testing.TB, c client.Client, name string) {
	t.Helper()
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}
