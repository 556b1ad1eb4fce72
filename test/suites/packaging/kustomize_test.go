package packaging

import (
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomize builds a kustomization under config/ with kustomize's own
// library, as `kubectl apply -k` does.
func kustomize(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root(t), dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs, err := decode(out)
	if err != nil {
		t.Fatalf("decode the output of kustomize build %s: %v", dir, err)
	}
	return objs
}

// TestKustomizeInstallsWhatTheChartInstalls builds config/default and checks
// it holds what `helm install sluice -n sluice-system` installs with default
// values, plus the namespace, with the same manager pod and RBAC rules.
func TestKustomizeInstallsWhatTheChartInstalls(t *testing.T) {
	t.Parallel()
	objs := kustomize(t, "config/default")
	chart := render(t, "--include-crds")

	got := ids(objs)
	want := append(ids(chart), "Namespace//"+namespace)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("config/default builds\n  %v\nthe chart (plus the namespace) renders\n  %v", got, want)
	}
	for _, o := range objs {
		if o.GetNamespace() != "" && o.GetNamespace() != namespace {
			t.Errorf("%s %s is in namespace %s, want %s", o.GetKind(), o.GetName(), o.GetNamespace(), namespace)
		}
		if o.GetKind() == "Role" || o.GetKind() == "ClusterRole" {
			for _, p := range rbacProblems(rulesOf(t, o)) {
				t.Errorf("%s %s: %s", o.GetKind(), o.GetName(), p)
			}
		}
	}
	if !equality.Semantic.DeepEqual(rulesOf(t, find(t, objs, "ClusterRole", "", "sluice-manager-role")), generatedRules(t)) {
		t.Error("config/default's ClusterRole differs from config/rbac/role.yaml")
	}
	for _, kind := range []string{"Role", "RoleBinding", "ClusterRoleBinding"} {
		for _, o := range ofKind(objs, kind) {
			k, c := o.Object, find(t, chart, kind, o.GetNamespace(), o.GetName()).Object
			for _, field := range []string{"rules", "roleRef", "subjects"} {
				if !equality.Semantic.DeepEqual(k[field], c[field]) {
					t.Errorf("%s %s: %s differs between config/default (%v) and the chart (%v)", kind, o.GetName(), field, k[field], c[field])
				}
			}
		}
	}

	d := typed[appsv1.Deployment](t, find(t, objs, "Deployment", namespace, release))
	cd := typed[appsv1.Deployment](t, find(t, chart, "Deployment", namespace, release))
	if !equality.Semantic.DeepEqual(d.Spec.Template.Spec, cd.Spec.Template.Spec) {
		t.Errorf("the manager pod differs between config/default and the chart:\n%+v\n%+v", d.Spec.Template.Spec, cd.Spec.Template.Spec)
	}
	if *d.Spec.Replicas != *cd.Spec.Replicas || !equality.Semantic.DeepEqual(d.Spec.Selector, cd.Spec.Selector) {
		t.Errorf("replicas or selector differ: %d %v vs the chart's %d %v", *d.Spec.Replicas, d.Spec.Selector, *cd.Spec.Replicas, cd.Spec.Selector)
	}
	checkManagerPod(t, d)
	checkRestricted(t, d)
	checkSelectors(t, objs, d)
	checkBindings(t, objs)
}

// TestKustomizeServiceMonitor builds config/prometheus, the optional
// ServiceMonitor, and checks that it selects the metrics Service of
// config/default.
func TestKustomizeServiceMonitor(t *testing.T) {
	t.Parallel()
	sm := find(t, kustomize(t, "config/prometheus"), "ServiceMonitor", namespace, release)
	svc := find(t, kustomize(t, "config/default"), "Service", namespace, "sluice-metrics")
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(labels.Set(svc.GetLabels())) {
		t.Errorf("the ServiceMonitor's selector %v does not match the metrics Service's labels %v", selector, svc.GetLabels())
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["port"] != svc.Object["spec"].(map[string]any)["ports"].([]any)[0].(map[string]any)["name"] {
		t.Errorf("the ServiceMonitor's endpoints %v do not name the metrics Service's port", endpoints)
	}
}
