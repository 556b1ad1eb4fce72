package gatewayapi

import (
	"fmt"
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/internal/traffic"
)

// managedRule locates one rule Sluice manages: its index in spec.rules, its
// name (or "#index" for an unnamed rule) and the indexes of its primary and
// canary backendRefs.
type managedRule struct {
	name    string
	index   int
	primary int
	canary  int
}

// backends are the Services of the primary and the canary, in the route's
// namespace.
type backends struct {
	namespace string
	primary   string
	canary    string
}

// findManagedRules returns the rules of spec Sluice manages: those named in
// names, or, when names is empty, every rule whose backendRefs are exactly
// the primary and canary Services. The problems it finds come back as
// reasons, and no rule is returned with them.
func findManagedRules(spec *gatewayv1.HTTPRouteSpec, names []string, b backends) ([]managedRule, []string) {
	var rules []managedRule
	var reasons []string
	for i := range spec.Rules {
		name := ruleName(&spec.Rules[i])
		named := len(names) > 0 && spec.Rules[i].Name != nil && slices.Contains(names, name)
		if len(names) > 0 && !named {
			continue
		}
		m, ok := splitBackends(&spec.Rules[i], b)
		if !ok {
			if named {
				reasons = append(reasons, fmt.Sprintf("rule %q must have exactly two backendRefs, the Services %s and %s", name, b.primary, b.canary))
			}
			continue
		}
		if spec.Rules[i].Name == nil {
			name = fmt.Sprintf("#%d", i)
		}
		m.name, m.index = name, i
		rules = append(rules, m)
	}
	for _, name := range names {
		if !slices.ContainsFunc(spec.Rules, func(r gatewayv1.HTTPRouteRule) bool { return r.Name != nil && string(*r.Name) == name }) {
			reasons = append(reasons, fmt.Sprintf("no rule named %q", name))
		}
	}
	if len(reasons) == 0 && len(rules) == 0 {
		reasons = append(reasons, fmt.Sprintf("no rule sends traffic to exactly the Services %s and %s", b.primary, b.canary))
	}
	if len(reasons) > 0 {
		return nil, reasons
	}
	return rules, nil
}

// ruleName is a rule's name, or "" when it has none.
func ruleName(r *gatewayv1.HTTPRouteRule) string {
	if r.Name == nil {
		return ""
	}
	return string(*r.Name)
}

// splitBackends finds the primary and canary backendRefs of a rule that has
// exactly those two.
func splitBackends(r *gatewayv1.HTTPRouteRule, b backends) (managedRule, bool) {
	m := managedRule{primary: -1, canary: -1}
	if len(r.BackendRefs) != 2 {
		return m, false
	}
	for j := range r.BackendRefs {
		ref := &r.BackendRefs[j].BackendObjectReference
		switch {
		case isService(ref, b.primary, b.namespace):
			m.primary = j
		case isService(ref, b.canary, b.namespace):
			m.canary = j
		}
	}
	return m, m.primary >= 0 && m.canary >= 0
}

// isService reports whether a backendRef names Service svc of namespace ns:
// the core group, the kind Service (both the defaults) and no namespace or
// ns.
func isService(ref *gatewayv1.BackendObjectReference, svc, ns string) bool {
	return string(ref.Name) == svc &&
		(ref.Group == nil || *ref.Group == "") &&
		(ref.Kind == nil || *ref.Kind == "Service") &&
		(ref.Namespace == nil || string(*ref.Namespace) == ns)
}

// weightOf is a backendRef's weight; the API's default is 1.
func weightOf(ref *gatewayv1.HTTPBackendRef) int32 {
	if ref.Weight == nil {
		return 1
	}
	return *ref.Weight
}

// canaryWeights reads the canary's share of each managed rule, in percent
// of the two backends' weights (rounded); 0 when both weigh 0.
func canaryWeights(spec *gatewayv1.HTTPRouteSpec, rules []managedRule) map[string]int32 {
	out := make(map[string]int32, len(rules))
	for _, m := range rules {
		refs := spec.Rules[m.index].BackendRefs
		p, c := weightOf(&refs[m.primary]), weightOf(&refs[m.canary])
		if p+c == 0 {
			out[m.name] = 0
			continue
		}
		out[m.name] = int32((200*int64(c) + int64(p+c)) / (2 * int64(p+c)))
	}
	return out
}

// inPlace reports whether every managed rule gives weight to the canary and
// the rest to the primary.
func inPlace(spec *gatewayv1.HTTPRouteSpec, rules []managedRule, weight int32) bool {
	for _, m := range rules {
		refs := spec.Rules[m.index].BackendRefs
		if weightOf(&refs[m.canary]) != weight || weightOf(&refs[m.primary]) != 100-weight {
			return false
		}
	}
	return true
}

// weightPatch sets the weights of the managed rules. It first tests the
// resourceVersion and the backend names it read, so that a concurrent edit
// that moved rules or backends makes the patch fail instead of writing the
// wrong place.
func weightPatch(spec *gatewayv1.HTTPRouteSpec, resourceVersion string, rules []managedRule, weight int32) []traffic.PatchOp {
	ops := []traffic.PatchOp{traffic.TestVersion(resourceVersion)}
	for _, m := range rules {
		refs := spec.Rules[m.index].BackendRefs
		for _, d := range []struct {
			index  int
			weight int32
		}{{m.primary, 100 - weight}, {m.canary, weight}} {
			path := fmt.Sprintf("/spec/rules/%d/backendRefs/%d", m.index, d.index)
			ops = append(ops,
				traffic.PatchOp{Op: "test", Path: path + "/name", Value: string(refs[d.index].Name)},
				traffic.PatchOp{Op: "add", Path: path + "/weight", Value: d.weight})
		}
	}
	return ops
}

// handBackPatch replaces the backendRefs of each managed rule with the apex
// Service alone, on the primary's port and with the primary's filters.
// With everyRef (a generated route, which goes or is released once handed
// back) every other backendRef that names the primary or canary Service, in
// a rule added by hand, is pointed at the apex too: those Services go with
// the owner. The first operation tests the resourceVersion read; a patch of
// that one operation changes nothing.
func handBackPatch(spec *gatewayv1.HTTPRouteSpec, resourceVersion string, names []string, b backends, apex string, everyRef bool) []traffic.PatchOp {
	ops := []traffic.PatchOp{traffic.TestVersion(resourceVersion)}
	for i := range spec.Rules {
		if len(names) > 0 && !slices.Contains(names, ruleName(&spec.Rules[i])) {
			continue
		}
		m, ok := splitBackends(&spec.Rules[i], b)
		if !ok {
			if everyRef {
				ops = append(ops, renameOwned(spec.Rules[i].BackendRefs, i, b, apex)...)
			}
			continue
		}
		ref := *spec.Rules[i].BackendRefs[m.primary].DeepCopy()
		ref.Name, ref.Weight = gatewayv1.ObjectName(apex), nil
		ops = append(ops, traffic.PatchOp{Op: "replace", Path: fmt.Sprintf("/spec/rules/%d/backendRefs", i),
			Value: []gatewayv1.HTTPBackendRef{ref}})
	}
	return ops
}

// renameOwned points each backendRef of rule i that names the primary or
// canary Service at the apex Service instead, keeping its port, weight and
// filters.
func renameOwned(refs []gatewayv1.HTTPBackendRef, i int, b backends, apex string) []traffic.PatchOp {
	var ops []traffic.PatchOp
	for j := range refs {
		ref := &refs[j].BackendObjectReference
		if isService(ref, b.primary, b.namespace) || isService(ref, b.canary, b.namespace) {
			ops = append(ops, traffic.PatchOp{Op: "replace", Path: fmt.Sprintf("/spec/rules/%d/backendRefs/%d/name", i, j), Value: apex})
		}
	}
	return ops
}
