package gatewayapi

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// confirming are the route conditions an implementation must report True,
// for each parent and at the route's current generation, before Sluice
// takes the weights as read back.
var confirming = []gatewayv1.RouteConditionType{
	gatewayv1.RouteConditionAccepted,
	gatewayv1.RouteConditionResolvedRefs,
}

// acceptance reads the implementation's status on hr. It reports ok when
// every parentRef has a status entry whose Accepted and ResolvedRefs are
// True at hr's generation. Otherwise reason quotes what is missing or what
// the implementation said, and rejected is true when a condition is False at
// the current generation (the implementation refused the route, as opposed
// to not having looked at it yet).
func acceptance(hr *gatewayv1.HTTPRoute) (reason string, rejected bool, ok bool) {
	var pending, refused []string
	for _, ref := range hr.Spec.ParentRefs {
		entries := statusOf(hr, ref)
		if len(entries) == 0 {
			pending = append(pending, fmt.Sprintf("parent %s has no status from its implementation", parentName(ref, hr.Namespace)))
			continue
		}
		for _, e := range entries {
			p, r := entryProblems(e, hr.Generation, parentName(ref, hr.Namespace))
			pending, refused = append(pending, p...), append(refused, r...)
		}
	}
	switch {
	case len(refused) > 0:
		return strings.Join(refused, "; "), true, false
	case len(pending) > 0:
		return strings.Join(pending, "; "), false, false
	}
	return "", false, true
}

// entryProblems checks one implementation's status for one parent.
func entryProblems(e gatewayv1.RouteParentStatus, generation int64, parent string) (pending, refused []string) {
	for _, t := range confirming {
		c := meta.FindStatusCondition(e.Conditions, string(t))
		switch {
		case c == nil || c.ObservedGeneration < generation:
			pending = append(pending, fmt.Sprintf("%s has not reported %s for generation %d yet (controller %s)",
				parent, t, generation, e.ControllerName))
		case c.Status != metav1.ConditionTrue:
			refused = append(refused, fmt.Sprintf("%s: %s=%s, reason %s: %q (controller %s)",
				parent, t, c.Status, c.Reason, c.Message, e.ControllerName))
		}
	}
	return pending, refused
}

// statusOf returns the status entries of hr for parentRef ref (one per
// implementation that reports on it).
func statusOf(hr *gatewayv1.HTTPRoute, ref gatewayv1.ParentReference) []gatewayv1.RouteParentStatus {
	var out []gatewayv1.RouteParentStatus
	for _, e := range hr.Status.Parents {
		if sameParent(e.ParentRef, ref, hr.Namespace) {
			out = append(out, e)
		}
	}
	return out
}

// sameParent compares two parentRefs with the API's defaults applied: group
// gateway.networking.k8s.io, kind Gateway, the route's namespace.
func sameParent(a, b gatewayv1.ParentReference, ns string) bool {
	return parentKey(a, ns) == parentKey(b, ns)
}

// parentKey is a parentRef in a comparable form, defaults applied.
func parentKey(r gatewayv1.ParentReference, ns string) string {
	group, k, namespace := gatewayv1.GroupName, "Gateway", ns
	if r.Group != nil {
		group = string(*r.Group)
	}
	if r.Kind != nil {
		k = string(*r.Kind)
	}
	if r.Namespace != nil {
		namespace = string(*r.Namespace)
	}
	section, port := "", int32(0)
	if r.SectionName != nil {
		section = string(*r.SectionName)
	}
	if r.Port != nil {
		port = *r.Port
	}
	return fmt.Sprintf("%s/%s/%s/%s/%s/%d", group, k, namespace, r.Name, section, port)
}

// parentName names a parentRef for messages, for example Gateway
// shop/public.
func parentName(r gatewayv1.ParentReference, ns string) string {
	k, namespace := "Gateway", ns
	if r.Kind != nil {
		k = string(*r.Kind)
	}
	if r.Namespace != nil {
		namespace = string(*r.Namespace)
	}
	name := fmt.Sprintf("%s %s/%s", k, namespace, r.Name)
	if r.SectionName != nil {
		name += " section " + string(*r.SectionName)
	}
	return name
}
