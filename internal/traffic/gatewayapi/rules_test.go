package gatewayapi

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var testBackends = backends{namespace: "shop", primary: "podinfo-primary", canary: "podinfo-canary"}

// rule builds a rule with backendRefs name=weight in order; a negative
// weight leaves the weight out (the API's default, 1).
func rule(name string, refs ...any) gatewayv1.HTTPRouteRule {
	r := gatewayv1.HTTPRouteRule{}
	if name != "" {
		r.Name = ptr(gatewayv1.SectionName(name))
	}
	for i := 0; i < len(refs); i += 2 {
		ref := gatewayv1.HTTPBackendRef{}
		ref.Name = gatewayv1.ObjectName(refs[i].(string))
		if w := int32(refs[i+1].(int)); w >= 0 {
			ref.Weight = &w
		}
		r.BackendRefs = append(r.BackendRefs, ref)
	}
	return r
}

func TestFindManagedRules(t *testing.T) {
	other := gatewayv1.Namespace("other")
	inOther := rule("elsewhere", "podinfo-primary", 100, "podinfo-canary", 0)
	inOther.BackendRefs[1].Namespace = &other
	tests := []struct {
		name        string
		rules       []gatewayv1.HTTPRouteRule
		names       []string
		want        []managedRule
		wantReasons []string
	}{{
		name: "without names, every rule to exactly primary and canary is managed, unnamed ones by index",
		rules: []gatewayv1.HTTPRouteRule{
			rule("admin", "admin", 1),
			rule("", "podinfo-canary", 0, "podinfo-primary", 100),
			rule("mirror", "podinfo-primary", 50, "podinfo-canary", 25, "other", 25),
			inOther,
		},
		want: []managedRule{{name: "#1", index: 1, primary: 1, canary: 0}},
	}, {
		name:  "with names, only the named rules are managed even if others match",
		rules: []gatewayv1.HTTPRouteRule{rule("a", "podinfo-primary", 100, "podinfo-canary", 0), rule("b", "podinfo-primary", 100, "podinfo-canary", 0)},
		names: []string{"b"},
		want:  []managedRule{{name: "b", index: 1, primary: 0, canary: 1}},
	}, {
		name:        "a named rule that is missing is a reason and nothing is managed",
		rules:       []gatewayv1.HTTPRouteRule{rule("a", "podinfo-primary", 100, "podinfo-canary", 0)},
		names:       []string{"a", "b"},
		wantReasons: []string{`no rule named "b"`},
	}, {
		name:        "a canary backend in another namespace is another Service",
		rules:       []gatewayv1.HTTPRouteRule{inOther},
		wantReasons: []string{"no rule sends traffic to exactly the Services podinfo-primary and podinfo-canary"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, reasons := findManagedRules(&gatewayv1.HTTPRouteSpec{Rules: tt.rules}, tt.names, testBackends)
			g.Expect(reasons).To(Equal(tt.wantReasons))
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestCanaryWeights(t *testing.T) {
	tests := []struct {
		name            string
		primary, canary int
		want            int32
		inPlaceAtWant   bool
	}{
		{"weights that sum to 100 read as written", 90, 10, 10, true},
		{"weights left out weigh 1 each: half", -1, -1, 50, false},
		{"a share is rounded to the nearest percent", 2, 1, 33, false},
		{"half a percent rounds up", 199, 1, 1, false},
		{"both at 0 read as 0", 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			spec := &gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{rule("main", "podinfo-primary", tt.primary, "podinfo-canary", tt.canary)}}
			rules, reasons := findManagedRules(spec, nil, testBackends)
			g.Expect(reasons).To(BeEmpty())
			g.Expect(canaryWeights(spec, rules)).To(Equal(map[string]int32{"main": tt.want}))
			g.Expect(inPlace(spec, rules, tt.want)).To(Equal(tt.inPlaceAtWant))
		})
	}
}

func TestAcceptance(t *testing.T) {
	gateway := gatewayv1.ParentReference{Name: "public"}
	explicit := gatewayv1.ParentReference{Group: ptr(gatewayv1.Group(gatewayv1.GroupName)), Kind: ptr(gatewayv1.Kind("Gateway")),
		Namespace: ptr(gatewayv1.Namespace("shop")), Name: "public"}
	cond := func(t string, s metav1.ConditionStatus, gen int64) metav1.Condition {
		return metav1.Condition{Type: t, Status: s, Reason: "R" + string(s), Message: "m", ObservedGeneration: gen}
	}
	route := func(entries ...gatewayv1.RouteParentStatus) *gatewayv1.HTTPRoute {
		hr := &gatewayv1.HTTPRoute{}
		hr.Namespace, hr.Generation = "shop", 3
		hr.Spec.ParentRefs = []gatewayv1.ParentReference{gateway}
		hr.Status.Parents = entries
		return hr
	}
	entry := func(ref gatewayv1.ParentReference, conds ...metav1.Condition) gatewayv1.RouteParentStatus {
		return gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: "example.com/gw", Conditions: conds}
	}
	tests := []struct {
		name         string
		hr           *gatewayv1.HTTPRoute
		ok, rejected bool
		reason       string
	}{
		{"both conditions True at the current generation, for a parent written with its defaults spelt out",
			route(entry(explicit, cond("Accepted", "True", 3), cond("ResolvedRefs", "True", 3))), true, false, ""},
		{"no status for the parent is pending",
			route(), false, false, "Gateway shop/public has no status from its implementation"},
		{"a status of another parent does not count",
			route(entry(gatewayv1.ParentReference{Name: "internal"}, cond("Accepted", "True", 3), cond("ResolvedRefs", "True", 3))),
			false, false, "Gateway shop/public has no status"},
		{"True at an older generation is pending",
			route(entry(gateway, cond("Accepted", "True", 2), cond("ResolvedRefs", "True", 3))),
			false, false, "has not reported Accepted for generation 3 yet"},
		{"False at an older generation is pending, not a rejection",
			route(entry(gateway, cond("Accepted", "False", 2), cond("ResolvedRefs", "True", 3))),
			false, false, "has not reported Accepted"},
		{"False at the current generation is a rejection that quotes the implementation",
			route(entry(gateway, cond("Accepted", "True", 3), cond("ResolvedRefs", "False", 3))),
			false, true, `Gateway shop/public: ResolvedRefs=False, reason RFalse: "m" (controller example.com/gw)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			reason, rejected, ok := acceptance(tt.hr)
			g.Expect(ok).To(Equal(tt.ok))
			g.Expect(rejected).To(Equal(tt.rejected))
			g.Expect(reason).To(ContainSubstring(tt.reason))
		})
	}
}
