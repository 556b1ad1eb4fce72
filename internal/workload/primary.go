package workload

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PrimarySuffix is added to the target's name to name its primary, and to
// the value of each of the target's matchLabels on the primary's pods.
const PrimarySuffix = "-primary"

// SelectorLabelError means that a value of the target Deployment's
// matchLabels cannot take PrimarySuffix and stay a valid label value, so
// Sluice cannot give the primary's pods labels of their own. It is a spec
// problem: shorten the label value (or the target's selector) to fix it.
type SelectorLabelError struct {
	// Deployment is the target's namespace/name.
	Deployment string
	// Key and Value are the matchLabels entry, Value without the suffix.
	Key, Value string
	// Problems are the label validation's messages for Value+PrimarySuffix.
	Problems []string
}

// Error names the label and says what to change.
func (e *SelectorLabelError) Error() string {
	return fmt.Sprintf("target Deployment %s: the primary's pods carry %s=%q in place of %s=%q, which is not a valid label value (%s): shorten the value of %s in the Deployment's selector",
		e.Deployment, e.Key, e.Value+PrimarySuffix, e.Key, e.Value, strings.Join(e.Problems, "; "), e.Key)
}

// PrimaryPodLabels is the matchLabels of a Canary's primary, which its pods
// carry in place of the target's: each of the target's matchLabels with
// PrimarySuffix added to its value (app: web becomes app: web-primary), plus
// LabelWorkload. Every other label of the user's pod template is kept.
//
// Why renamed: the target's selector must not match the primary's pods.
// Otherwise a HorizontalPodAutoscaler on the target and Sluice's copy of it
// on the primary both select the primary's pods, and the HPA controller
// refuses to act (AmbiguousSelector); a PodDisruptionBudget written for the
// target would count the primary's pods too. The target's matchExpressions
// are not carried over: the renamed matchLabels and LabelWorkload already
// select the primary's pods alone, and an expression on a renamed key (app
// In [web]) would not match them. A target with no matchLabels is
// ErrNoMatchLabels; a value that cannot take the suffix is a
// *SelectorLabelError.
func PrimaryPodLabels(target *appsv1.Deployment) (map[string]string, error) {
	base, err := baseSelector(target)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(base)+1)
	for _, k := range slices.Sorted(maps.Keys(base)) {
		v := base[k] + PrimarySuffix
		if problems := validation.IsValidLabelValue(v); len(problems) > 0 {
			return nil, &SelectorLabelError{Deployment: target.Namespace + "/" + target.Name, Key: k, Value: base[k], Problems: problems}
		}
		out[k] = v
	}
	out[LabelWorkload] = PrimaryName(target.Name)
	return out, nil
}

// SelectorStale reports whether an existing copy's selector differs from the
// one cp gives it: a primary created by a Sluice that did not rename its
// labels yet, or the copy of a target whose selector changed since. A
// Deployment's selector cannot be changed; such a copy is kept as it is
// (KeepSelector) until it can be re-created with no traffic on it.
func SelectorStale(existing *appsv1.Deployment, cp Copy) bool {
	return existing != nil && !equality.Semantic.DeepEqual(existing.Spec.Selector, cp.Deployment().Spec.Selector)
}

// KeepSelector returns cp with existing's selector, and the labels it
// selects on put on the pod template in place of cp's own, so that an
// apply never asks to change an immutable selector. An existing copy whose
// selector is not stale, or none, leaves cp as it is.
func (cp Copy) KeepSelector(existing *appsv1.Deployment) Copy {
	if !SelectorStale(existing, cp) || existing.Spec.Selector == nil {
		return cp
	}
	cp.Selector = existing.Spec.Selector.DeepCopy()
	cp.Labels = maps.Clone(existing.Spec.Selector.MatchLabels)
	return cp
}

// renamedKeys are the keys whose value in labels is the one in tmpl with
// PrimarySuffix added.
func renamedKeys(tmpl, labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		if tv, ok := tmpl[k]; ok && v == tv+PrimarySuffix {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// SelectorLabels is the matchLabels a Deployment selects its pods on: for a
// primary, the labels the Services that send it traffic select.
func SelectorLabels(d *appsv1.Deployment) map[string]string {
	if d.Spec.Selector == nil {
		return nil
	}
	return maps.Clone(d.Spec.Selector.MatchLabels)
}

// HandBackSelector is the selector a Service that selected a copy's pods
// takes when it is handed back, with no selector recorded at adoption: base
// (the target's matchLabels) when the target is known; else current without
// Sluice's labels, and for a primary's selector (LabelWorkload ending in
// PrimarySuffix) with PrimarySuffix taken off each value that has it.
func HandBackSelector(current, base map[string]string) map[string]string {
	if len(base) > 0 {
		return maps.Clone(base)
	}
	out := maps.Clone(current)
	primary := strings.HasSuffix(out[LabelWorkload], PrimarySuffix)
	for _, l := range []string{LabelWorkload, LabelColor, LabelPodTemplateHash} {
		delete(out, l)
	}
	if primary {
		for k, v := range out {
			out[k] = strings.TrimSuffix(v, PrimarySuffix)
		}
	}
	return out
}

// primaryCopyLabels is what PrimaryCopy uses for its selector and labels:
// PrimaryPodLabels, or, when the target cannot give them (no matchLabels, a
// value too long), the target's selector plus LabelWorkload; the reconciler
// refuses such a target before it copies anything.
func primaryCopyLabels(target *appsv1.Deployment, name string) (*metav1.LabelSelector, map[string]string) {
	if labels, err := PrimaryPodLabels(target); err == nil {
		return &metav1.LabelSelector{MatchLabels: labels}, labels
	}
	return target.Spec.Selector, map[string]string{LabelWorkload: name}
}
