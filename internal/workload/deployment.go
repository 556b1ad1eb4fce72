package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Copy describes a Deployment Sluice owns whose pods run a copy of a user's
// pod template.
type Copy struct {
	// Name of the Deployment, for example podinfo-primary.
	Name string
	// Template is the user's pod template the copy runs, as read from the
	// API server; usually the target's spec.template.
	Template corev1.PodTemplateSpec
	// Selector is the copy's selector before Labels are added: the user's
	// Deployment's for a color, the renamed one for a primary (see
	// PrimaryPodLabels).
	Selector *metav1.LabelSelector
	// Labels are added to the copy's selector and pod template, in place of
	// the template's labels of the same keys.
	Labels map[string]string
	// Replicas the copy runs.
	Replicas int32
	// Autoscaled leaves the copy's replicas to an autoscaler: Replicas is
	// written only when the copy is created.
	Autoscaled bool
	// Target is the user's Deployment: its namespace and timing settings
	// (minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds) are
	// carried over to the copy, its strategy as CopyStrategy says. Its own
	// labels and annotations are not: tools such as Argo CD track objects by
	// them.
	Target *appsv1.Deployment
	// Owner is the Canary or BlueGreen the copy belongs to.
	Owner client.Object
}

// PrimaryCopy describes a Canary's primary Deployment running the target's
// current pod template, its pods labelled apart from the target's (see
// PrimaryPodLabels).
func PrimaryCopy(c *v1alpha1.Canary, target *appsv1.Deployment, replicas int32) Copy {
	name := PrimaryName(c.Spec.TargetRef.Name)
	selector, labels := primaryCopyLabels(target, name)
	return Copy{
		Name:     name,
		Template: target.Spec.Template,
		Selector: selector,
		Labels:   labels,
		Replicas: replicas,
		Target:   target,
		Owner:    c,
	}
}

// ColorCopy describes a BlueGreen's Deployment of one color running the
// target's current pod template.
func ColorCopy(bg *v1alpha1.BlueGreen, target *appsv1.Deployment, color v1alpha1.Color, replicas int32) Copy {
	name := ColorName(bg.Spec.TargetRef.Name, color)
	return Copy{
		Name:     name,
		Template: target.Spec.Template,
		Selector: target.Spec.Selector,
		Labels:   map[string]string{LabelWorkload: name, LabelColor: string(color)},
		Replicas: replicas,
		Target:   target,
		Owner:    bg,
	}
}

// Deployment is the Deployment the copy describes, without an owner
// reference (EnsureDeployment adds it). The pod template is the user's with
// Labels added; nothing else in it changes.
func (cp Copy) Deployment() *appsv1.Deployment {
	tmpl := cp.Template.DeepCopy()
	delete(tmpl.Labels, LabelPodTemplateHash)
	if renamed := renamedKeys(tmpl.Labels, cp.Labels); len(renamed) > 0 {
		tmpl.Annotations = withLabels(tmpl.Annotations, map[string]string{
			AnnotationRenamedLabels: strings.Join(renamed, ",")})
	}
	tmpl.Labels = withLabels(tmpl.Labels, cp.Labels)
	selector := &metav1.LabelSelector{}
	if cp.Selector != nil {
		selector = cp.Selector.DeepCopy()
	}
	selector.MatchLabels = withLabels(selector.MatchLabels, cp.Labels)

	d := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        cp.Name,
			Labels:      withLabels(nil, cp.Labels),
			Annotations: map[string]string{AnnotationRevision: Revision(&cp.Template)},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &cp.Replicas,
			Selector: selector,
			Template: *tmpl,
		},
	}
	if t := cp.Target; t != nil {
		d.Namespace = t.Namespace
		d.Spec.Strategy = CopyStrategy(t.Spec.Strategy)
		d.Spec.MinReadySeconds = t.Spec.MinReadySeconds
		d.Spec.RevisionHistoryLimit = t.Spec.RevisionHistoryLimit
		d.Spec.ProgressDeadlineSeconds = t.Spec.ProgressDeadlineSeconds
	}
	if cp.Owner != nil {
		d.Namespace = cp.Owner.GetNamespace()
	}
	return d
}

// DefaultMaxSurge is the maxSurge of a copy whose target does not set one
// (a Recreate target, or a RollingUpdate one left to the API's default).
var DefaultMaxSurge = intstr.FromString("25%")

// CopyStrategy is the strategy of a copy of a Deployment whose strategy is
// target: always RollingUpdate with maxUnavailable 0, keeping the target's
// maxSurge when it sets one above zero, else DefaultMaxSurge. Why: a copy
// must never have fewer ready pods than it wants, whatever the user's
// Deployment says. Sluice only changes a copy's template while it serves no
// traffic, so a Recreate target would be safe in a promotion; but a copy
// that drifted is put back in place, under traffic, and a Recreate there
// would leave the Service with no pod at all. (Two versions run side by side
// in every Canary release anyway: the canary and the primary.)
func CopyStrategy(target appsv1.DeploymentStrategy) appsv1.DeploymentStrategy {
	surge := DefaultMaxSurge
	if ru := target.RollingUpdate; target.Type != appsv1.RecreateDeploymentStrategyType && ru != nil &&
		ru.MaxSurge != nil && ru.MaxSurge.String() != "0" && ru.MaxSurge.String() != "0%" {
		surge = *ru.MaxSurge
	}
	zero := intstr.FromInt32(0)
	return appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &zero},
	}
}

// EnsureDeployment creates the copy or brings it in line with server-side
// apply. A copy already as wanted (see deploymentInPlace) is not written: a
// no-op apply still costs a request and a place in the API server's queue.
// A Deployment of that name not controlled by the copy's owner is a
// *NotOwnedError and is left alone.
func EnsureDeployment(ctx context.Context, c client.Client, cp Copy) error {
	d := cp.Deployment()
	existing := &appsv1.Deployment{}
	if err := checkOwned(ctx, c, existing, client.ObjectKeyFromObject(d), cp.Owner); err != nil {
		return err
	}
	if cp.Autoscaled && existing.UID != "" {
		// Why: the autoscaler owns the count; an apply must neither set it
		// nor, by leaving it out, reset it.
		if err := handOverReplicas(ctx, c, existing); err != nil {
			return err
		}
		d.Spec.Replicas = nil
	}
	if existing.UID != "" && deploymentInPlace(existing, d, cp.Owner) {
		return nil
	}
	if err := apply(ctx, c, d, cp.Owner); err != nil {
		return fmt.Errorf("apply Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// deploymentInPlace reports whether existing already is what desired asks
// for in every field Sluice sets: controlled by owner, its labels and
// annotations present, the same selector, pod template, strategy, timing
// settings and, unless desired leaves them to an autoscaler, replicas.
// desired is built from templates read from the API server, defaults
// applied, so an unchanged copy compares equal; anything else is applied
// (a write too many, never one too few).
func deploymentInPlace(existing, desired *appsv1.Deployment, owner client.Object) bool {
	if ref := metav1.GetControllerOf(existing); owner == nil || ref == nil || ref.UID != owner.GetUID() {
		return false
	}
	if !subset(desired.Labels, existing.Labels) || !subset(desired.Annotations, existing.Annotations) {
		return false
	}
	e, d := &existing.Spec, &desired.Spec
	if d.Replicas != nil && DesiredReplicas(existing) != *d.Replicas {
		return false
	}
	return equality.Semantic.DeepEqual(e.Selector, d.Selector) &&
		equality.Semantic.DeepEqual(e.Template, d.Template) &&
		equality.Semantic.DeepEqual(e.Strategy, d.Strategy) &&
		e.MinReadySeconds == d.MinReadySeconds &&
		(d.RevisionHistoryLimit == nil || equality.Semantic.DeepEqual(e.RevisionHistoryLimit, d.RevisionHistoryLimit)) &&
		(d.ProgressDeadlineSeconds == nil || equality.Semantic.DeepEqual(e.ProgressDeadlineSeconds, d.ProgressDeadlineSeconds))
}

// subset reports whether every key of want is in have with the same value.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// ScaleTo sets spec.replicas of a Deployment (the user's or a copy) and
// reports whether it changed anything. It touches no other field.
func ScaleTo(ctx context.Context, c client.Client, key types.NamespacedName, replicas int32) (bool, error) {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, key, d); err != nil {
		return false, fmt.Errorf("scale Deployment %s: %w", key, err)
	}
	if DesiredReplicas(d) == replicas && d.Spec.Replicas != nil {
		return false, nil
	}
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	if err := c.Patch(ctx, d, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldManager)); err != nil {
		return false, fmt.Errorf("scale Deployment %s to %d: %w", key, replicas, err)
	}
	return true, nil
}

// DesiredReplicas is spec.replicas, with the API's default of 1 when unset.
func DesiredReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// withLabels returns base with extra added, as a new map.
func withLabels(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	maps.Copy(out, base)
	maps.Copy(out, extra)
	return out
}

// apply writes obj with server-side apply under FieldManager, forcing
// ownership of the fields it sets, with a controller reference to owner.
func apply(ctx context.Context, c client.Client, obj client.Object, owner client.Object) error {
	if owner != nil {
		ref, err := controllerRef(owner, c)
		if err != nil {
			return err
		}
		obj.SetOwnerReferences([]metav1.OwnerReference{ref})
	}
	u, err := toApplyConfiguration(obj)
	if err != nil {
		return err
	}
	return c.Apply(ctx, u, client.FieldOwner(FieldManager), client.ForceOwnership)
}

// toApplyConfiguration turns a typed object into an apply configuration
// holding exactly the fields it sets.
func toApplyConfiguration(obj client.Object) (runtime.ApplyConfiguration, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	pruneServerFields(u.Object)
	return client.ApplyConfigurationFromUnstructured(u), nil
}

// pruneServerFields removes what encoding a typed object adds but a client
// must not claim: the status and the empty creation timestamps.
func pruneServerFields(obj map[string]any) {
	delete(obj, "status")
	unstructured.RemoveNestedField(obj, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(obj, "spec", "template", "metadata", "creationTimestamp")
}

// controllerRef is a controller owner reference to owner.
func controllerRef(owner client.Object, c client.Client) (metav1.OwnerReference, error) {
	gvk, err := apiutil.GVKForObject(owner, c.Scheme())
	if err != nil {
		return metav1.OwnerReference{}, fmt.Errorf("owner reference to %s: %w", owner.GetName(), err)
	}
	yes := true
	return metav1.OwnerReference{
		APIVersion:         gvk.GroupVersion().String(),
		Kind:               gvk.Kind,
		Name:               owner.GetName(),
		UID:                owner.GetUID(),
		Controller:         &yes,
		BlockOwnerDeletion: &yes,
	}, nil
}

// NotOwnedError means that an object Sluice would create already exists and
// is not controlled by the Canary or BlueGreen that wants it. Sluice does
// not adopt it: delete or rename it, or change targetRef.
type NotOwnedError struct {
	// Kind, Namespace and Name of the existing object.
	Kind, Namespace, Name string
	// Owner is the Canary or BlueGreen that wanted it.
	Owner string
}

// Error names the object and the owner that wanted it.
func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("%s %s/%s exists and is not managed by %s: Sluice does not adopt objects it did not create",
		e.Kind, e.Namespace, e.Name, e.Owner)
}

// checkOwned returns a *NotOwnedError when key exists and is not controlled
// by owner. A missing object is fine: it will be created.
func checkOwned(ctx context.Context, c client.Client, obj client.Object, key types.NamespacedName, owner client.Object) error {
	if owner == nil {
		return nil
	}
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("read %s: %w", key, err)
	}
	if ref := metav1.GetControllerOf(obj); ref != nil && ref.UID == owner.GetUID() {
		return nil
	}
	gvk, _ := apiutil.GVKForObject(obj, c.Scheme())
	return &NotOwnedError{Kind: gvk.Kind, Namespace: key.Namespace, Name: key.Name, Owner: owner.GetName()}
}
