package packaging

import (
	"fmt"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRenderedRBACIsLeastPrivilege checks every Role and ClusterRole the
// chart renders, cluster-wide and per namespace: no wildcard anywhere, no
// non-resource URLs, and Secrets only read one by one (the Prometheus
// provider's auth reference names its Secret), never listed or watched.
func TestRenderedRBACIsLeastPrivilege(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"cluster-wide":       nil,
		"listed namespaces":  {"--set", "watchNamespaces={shop,payments}"},
		"non-default values": {"-f", valuesFile(t, nonDefaultValues)},
	} {
		objs := render(t, args...)
		roles := append(ofKind(objs, "Role"), ofKind(objs, "ClusterRole")...)
		if len(roles) == 0 {
			t.Fatalf("%s: no Role or ClusterRole rendered", name)
		}
		for _, o := range roles {
			for _, problem := range rbacProblems(rulesOf(t, o)) {
				t.Errorf("%s: %s %s/%s: %s", name, o.GetKind(), o.GetNamespace(), o.GetName(), problem)
			}
		}
	}
}

// rbacProblems lists what makes rules broader than Sluice needs.
func rbacProblems(rules []rbacv1.PolicyRule) []string {
	var out []string
	for i, r := range rules {
		for field, values := range map[string][]string{"verbs": r.Verbs, "resources": r.Resources, "apiGroups": r.APIGroups, "resourceNames": r.ResourceNames} {
			if slices.Contains(values, rbacv1.VerbAll) {
				out = append(out, fmt.Sprintf("rule %d has a wildcard in %s: %v", i, field, values))
			}
		}
		if len(r.NonResourceURLs) > 0 {
			out = append(out, fmt.Sprintf("rule %d grants non-resource URLs %v", i, r.NonResourceURLs))
		}
		if len(r.Verbs) == 0 {
			out = append(out, fmt.Sprintf("rule %d has no verbs", i))
		}
		if slices.Contains(r.APIGroups, "") && slices.Contains(r.Resources, "secrets") && !slices.Equal(r.Verbs, []string{"get"}) {
			out = append(out, fmt.Sprintf("rule %d grants %v on secrets; only get is needed", i, r.Verbs))
		}
	}
	return out
}

func rulesOf(t testing.TB, o *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	return typed[rbacv1.ClusterRole](t, o).Rules
}

func TestRBACProblemsFindsWildcards(t *testing.T) {
	t.Parallel()
	for name, rule := range map[string]rbacv1.PolicyRule{
		"every verb":         {APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"*"}},
		"every resource":     {APIGroups: []string{"apps"}, Resources: []string{"*"}, Verbs: []string{"get"}},
		"every group":        {APIGroups: []string{"*"}, Resources: []string{"deployments"}, Verbs: []string{"get"}},
		"listing secrets":    {APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}},
		"a non-resource URL": {NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}},
	} {
		if len(rbacProblems([]rbacv1.PolicyRule{rule})) == 0 {
			t.Errorf("%s: %v passes the least-privilege check", name, rule)
		}
	}
	ok := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/log", "secrets"}, Verbs: []string{"get"}}
	if p := rbacProblems([]rbacv1.PolicyRule{ok}); len(p) > 0 {
		t.Errorf("reading a Secret by name is what Sluice needs, yet: %v", p)
	}
}
