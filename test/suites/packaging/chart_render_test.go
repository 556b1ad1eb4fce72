package packaging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// defaultObjects is what `helm install sluice -n sluice-system` creates.
var defaultObjects = []string{
	"ClusterAnalysisTemplate//istio",
	"ClusterAnalysisTemplate//linkerd",
	"ClusterAnalysisTemplate//traefik",
	"ClusterRole//sluice-manager-role",
	"ClusterRoleBinding//sluice-manager-rolebinding",
	"Deployment/sluice-system/sluice",
	"PodDisruptionBudget/sluice-system/sluice",
	"Role/sluice-system/sluice-leader-election-role",
	"RoleBinding/sluice-system/sluice-leader-election-rolebinding",
	"Service/sluice-system/sluice-metrics",
	"ServiceAccount/sluice-system/sluice",
	"ValidatingAdmissionPolicy//sluice-hook-policy",
	"ValidatingAdmissionPolicyBinding//sluice-hook-policy",
}

func TestChartDefaults(t *testing.T) {
	t.Parallel()
	objs := render(t)
	got := ids(objs)
	slices.Sort(got)
	if !slices.Equal(got, defaultObjects) {
		t.Fatalf("default values render\n  %v\nwant\n  %v", got, defaultObjects)
	}
	d := typed[appsv1.Deployment](t, find(t, objs, "Deployment", namespace, release))
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", *d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, arg := range []string{"--leader-elect", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081", "--zap-log-level=info"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("manager args %v lack %s", c.Args, arg)
		}
	}
	if hasArgPrefix(c.Args, "--watch-namespaces") {
		t.Errorf("manager args %v restrict namespaces; the default watches the whole cluster", c.Args)
	}
	if want := "sluice:" + chartAppVersion(t); c.Image != want {
		t.Errorf("image = %q, want %q (the chart's appVersion)", c.Image, want)
	}
	checkManagerPod(t, d)
	checkRestricted(t, d)
	checkSelectors(t, objs, d)
	checkBindings(t, objs)
	pdb := typed[policyv1.PodDisruptionBudget](t, find(t, objs, "PodDisruptionBudget", namespace, release))
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget minAvailable = %v, want 1", pdb.Spec.MinAvailable)
	}
	role := typed[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", "", "sluice-manager-role"))
	if want := generatedRules(t); !equality.Semantic.DeepEqual(role.Rules, want) {
		t.Errorf("the ClusterRole's rules differ from config/rbac/role.yaml:\n%v\nwant\n%v", role.Rules, want)
	}
}

func TestChartNonDefaults(t *testing.T) {
	t.Parallel()
	objs := render(t, "-f", valuesFile(t, nonDefaultValues))
	// Watching listed namespaces grants nothing cluster-wide but reading
	// the cluster-scoped analysis templates (the presets).
	crs := append(ofKind(objs, "ClusterRole"), ofKind(objs, "ClusterRoleBinding")...)
	if got := ids(crs); !slices.Equal(got, []string{"ClusterRole//sluice-cluster-templates-reader",
		"ClusterRoleBinding//sluice-cluster-templates-reader"}) {
		t.Errorf("watching listed namespaces must grant nothing cluster-wide but reading templates, got %v", got)
	}
	reader := typed[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", "", "sluice-cluster-templates-reader"))
	if want := []rbacv1.PolicyRule{{APIGroups: []string{"rollouts.sluice.dev"}, Resources: []string{"clusteranalysistemplates"},
		Verbs: []string{"get", "list", "watch"}}}; !equality.Semantic.DeepEqual(reader.Rules, want) {
		t.Errorf("the templates reader grants %v, want only %v", reader.Rules, want)
	}
	for _, ns := range []string{"shop", "payments"} {
		role := typed[rbacv1.Role](t, find(t, objs, "Role", ns, "sluice-manager-role"))
		if want := generatedRules(t); !equality.Semantic.DeepEqual(role.Rules, want) {
			t.Errorf("Role in %s: rules differ from config/rbac/role.yaml", ns)
		}
		find(t, objs, "RoleBinding", ns, "sluice-manager-rolebinding")
	}
	checkBindings(t, objs)

	d := typed[appsv1.Deployment](t, find(t, objs, "Deployment", namespace, release))
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	for what, ok := range map[string]bool{
		"replicas 3":                           *d.Spec.Replicas == 3,
		"image example/sluice:v1.2.3":          c.Image == "example/sluice:v1.2.3",
		"pull policy Always":                   c.ImagePullPolicy == corev1.PullAlways,
		"--watch-namespaces=shop,payments":     slices.Contains(c.Args, "--watch-namespaces=shop,payments"),
		"--zap-log-level=debug":                slices.Contains(c.Args, "--zap-log-level=debug"),
		"image pull secret regcred":            len(pod.ImagePullSecrets) == 1 && pod.ImagePullSecrets[0].Name == "regcred",
		"pod annotation team=platform":         d.Spec.Template.Annotations["team"] == "platform",
		"node selector kubernetes.io/os=linux": pod.NodeSelector["kubernetes.io/os"] == "linux",
		"toleration dedicated":                 len(pod.Tolerations) == 1 && pod.Tolerations[0].Key == "dedicated",
		"priority class":                       pod.PriorityClassName == "system-cluster-critical",
		"--outbound-allow-cidrs":               slices.Contains(c.Args, "--outbound-allow-cidrs=127.0.0.0/8,::1/128"),
		"--outbound-deny-cidrs":                slices.Contains(c.Args, "--outbound-deny-cidrs=10.0.0.0/24"),
		"--hook-service-accounts":              slices.Contains(c.Args, "--hook-service-accounts=smoke-tester"),
	} {
		if !ok {
			t.Errorf("the Deployment does not have %s", what)
		}
	}
	checkManagerPod(t, d)
	checkRestricted(t, d)
	checkSelectors(t, objs, d)
	checkServiceMonitor(t, objs)
	checkDashboard(t, objs)
}

func TestChartWithOneReplica(t *testing.T) {
	t.Parallel()
	objs := render(t, "--set", "replicaCount=1,leaderElection.enabled=false")
	if pdbs := ofKind(objs, "PodDisruptionBudget"); len(pdbs) > 0 {
		t.Errorf("a PodDisruptionBudget with minAvailable 1 over one replica would block every drain; got %v", ids(pdbs))
	}
	for _, o := range objs {
		if strings.Contains(o.GetName(), "leader-election") {
			t.Errorf("without leader election, %s %s should not be rendered", o.GetKind(), o.GetName())
		}
	}
	d := typed[appsv1.Deployment](t, find(t, objs, "Deployment", namespace, release))
	if slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--leader-elect") {
		t.Error("the manager still has --leader-elect")
	}
}

func hasArgPrefix(args []string, prefix string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, prefix) })
}

// checkManagerPod checks what must hold whatever the values: probes on the
// port the manager serves them on, resources, the ServiceAccount.
func checkManagerPod(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		port := ports[probe.HTTPGet.Port.String()]
		if !slices.Contains(c.Args, "--health-probe-bind-address=:"+itoa(port)) {
			t.Errorf("%s probe on port %q (%d), but the manager serves probes on %v", name, probe.HTTPGet.Port.String(), port, c.Args)
		}
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness path %s, want /healthz", c.LivenessProbe.HTTPGet.Path)
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness path %s, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	if !slices.Contains(c.Args, "--metrics-bind-address=:"+itoa(ports["http-metrics"])) {
		t.Errorf("port http-metrics is %d but the manager's args are %v", ports["http-metrics"], c.Args)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %v: want CPU and memory requests and a memory limit", c.Resources)
	}
	if d.Spec.Template.Spec.ServiceAccountName != release {
		t.Errorf("serviceAccountName = %q, want %q", d.Spec.Template.Spec.ServiceAccountName, release)
	}
}

// checkRestricted checks the restricted Pod Security Standard's demands.
func checkRestricted(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template.Spec
	c := pod.Containers[0].SecurityContext
	if c == nil || pod.SecurityContext == nil {
		t.Fatal("the manager has no securityContext")
	}
	for what, ok := range map[string]bool{
		"runAsNonRoot":                   (c.RunAsNonRoot != nil && *c.RunAsNonRoot) || (pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot),
		"readOnlyRootFilesystem":         c.ReadOnlyRootFilesystem != nil && *c.ReadOnlyRootFilesystem,
		"allowPrivilegeEscalation false": c.AllowPrivilegeEscalation != nil && !*c.AllowPrivilegeEscalation,
		"capabilities drop ALL":          c.Capabilities != nil && slices.Equal(c.Capabilities.Drop, []corev1.Capability{"ALL"}) && len(c.Capabilities.Add) == 0,
		"seccomp RuntimeDefault": pod.SecurityContext.SeccompProfile != nil &&
			pod.SecurityContext.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault,
	} {
		if !ok {
			t.Errorf("the manager's securityContext lacks %s", what)
		}
	}
}

// checkSelectors checks that the Deployment, Service and PodDisruptionBudget
// select the manager's pods.
func checkSelectors(t *testing.T, objs []*unstructured.Unstructured, d *appsv1.Deployment) {
	t.Helper()
	podLabels := labels.Set(d.Spec.Template.Labels)
	if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(podLabels) {
		t.Errorf("the Deployment's selector %v does not match its pods %v", d.Spec.Selector.MatchLabels, podLabels)
	}
	svc := typed[corev1.Service](t, find(t, objs, "Service", namespace, "sluice-metrics"))
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Errorf("the metrics Service's selector %v does not match the manager's pods %v", svc.Spec.Selector, podLabels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http-metrics" {
		t.Errorf("the metrics Service should target port http-metrics, has %v", svc.Spec.Ports)
	}
	for _, o := range ofKind(objs, "PodDisruptionBudget") {
		pdb := typed[policyv1.PodDisruptionBudget](t, o)
		if !labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(podLabels) {
			t.Errorf("the PodDisruptionBudget's selector %v does not match the manager's pods", pdb.Spec.Selector.MatchLabels)
		}
	}
}

// checkBindings checks that every binding binds the manager's ServiceAccount
// to a role that is rendered too.
func checkBindings(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range append(ofKind(objs, "RoleBinding"), ofKind(objs, "ClusterRoleBinding")...) {
		b := typed[rbacv1.RoleBinding](t, o)
		roleNS := o.GetNamespace()
		if b.RoleRef.Kind == "ClusterRole" {
			roleNS = ""
		}
		find(t, objs, b.RoleRef.Kind, roleNS, b.RoleRef.Name)
		want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: release, Namespace: namespace}}
		if !equality.Semantic.DeepEqual(b.Subjects, want) {
			t.Errorf("%s %s binds %v, want the manager's ServiceAccount", o.GetKind(), o.GetName(), b.Subjects)
		}
	}
}

func checkServiceMonitor(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	sm := find(t, objs, "ServiceMonitor", namespace, release)
	svc := find(t, objs, "Service", namespace, "sluice-metrics")
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(labels.Set(svc.GetLabels())) {
		t.Errorf("the ServiceMonitor's selector %v does not match the metrics Service's labels %v", selector, svc.GetLabels())
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("ServiceMonitor endpoints = %v, want one", endpoints)
	}
	ep := endpoints[0].(map[string]any)
	if ep["port"] != "http-metrics" || ep["path"] != "/metrics" || ep["interval"] != "15s" {
		t.Errorf("ServiceMonitor endpoint = %v, want port http-metrics, path /metrics, interval 15s", ep)
	}
	if sm.GetLabels()["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack serviceMonitor.labels", sm.GetLabels())
	}
}

func checkDashboard(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	cm := typed[corev1.ConfigMap](t, find(t, objs, "ConfigMap", "monitoring", "sluice-dashboard"))
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v lack grafana_dashboard: \"1\"", cm.Labels)
	}
	want, err := os.ReadFile(filepath.Join(root(t), "config", "grafana", "sluice-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got, wantJSON any
	if err := json.Unmarshal([]byte(cm.Data["sluice-dashboard.json"]), &got); err != nil {
		t.Fatalf("the dashboard in the ConfigMap is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &wantJSON); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got, wantJSON) {
		t.Error("the dashboard in the ConfigMap differs from config/grafana/sluice-dashboard.json")
	}
}

// generatedRules reads the rules controller-gen wrote into config/rbac/role.yaml.
func generatedRules(t testing.TB) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatalf("parse config/rbac/role.yaml: %v", err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("config/rbac/role.yaml has no rules")
	}
	return role.Rules
}

func chartAppVersion(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir(t), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("read appVersion from Chart.yaml: %v", err)
	}
	return chart.AppVersion
}

func itoa(i int32) string {
	return strconv.Itoa(int(i))
}
