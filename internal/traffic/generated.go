package traffic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/workload"
)

// The helpers below are the life of a route object Sluice generates (a
// VirtualService, an HTTPRoute), the same for every router: built with a
// controller reference to its release object, claimed again after a
// hand-back, and at the end either deleted or released to the user.

// LabelManagedBy marks a route object Sluice generated and manages. A route
// released on hand-back loses it.
const LabelManagedBy = "app.kubernetes.io/managed-by"

// AnnotationHandedBack is put on a generated route Sluice released to its
// user when the release object went (see Finish): its value names that
// object, "Canary/podinfo". Such a route has no controller any more and
// sends all its traffic to the apex Service. A release object created again
// for the same target claims it back (see Claim) instead of refusing it as
// someone else's.
const AnnotationHandedBack = "rollouts.sluice.dev/handed-back-from"

// ErrNotHandedBack means that a generated route to be released still
// sends traffic to the Services Sluice is about to remove: it must be
// handed back (and drained) first.
var ErrNotHandedBack = errors.New("the route still sends traffic to Services Sluice owns: hand it back first")

// PatchOp is one JSON patch (RFC 6902) operation.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// TestVersion is the operation that starts every patch Sluice sends to a
// route: a test of the resourceVersion read, so that a route changed since
// is refused (a conflict) rather than patched blind.
func TestVersion(resourceVersion string) PatchOp {
	return PatchOp{Op: "test", Path: "/metadata/resourceVersion", Value: resourceVersion}
}

// GeneratedObject is the route object of kind gvk to apply for s at key,
// with spec as its spec and only what Sluice owns: Sluice's label and a
// controller reference to s.Owner, no status, no empty fields. spec must
// encode to JSON as the API server expects it.
func GeneratedObject(gvk schema.GroupVersionKind, key types.NamespacedName, s Split, spec any) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", gvk.Kind, key, err)
	}
	var specMap map[string]any
	if err := json.Unmarshal(data, &specMap); err != nil {
		return nil, fmt.Errorf("build %s %s: %w", gvk.Kind, key, err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	u.SetLabels(map[string]string{LabelManagedBy: workload.FieldManager})
	u.SetOwnerReferences([]metav1.OwnerReference{*metav1.NewControllerRef(s.Owner, s.OwnerKind)})
	return u, nil
}

// ApplyGenerated applies u, built by GeneratedObject, under Sluice's field
// manager, taking over the fields it sets.
func ApplyGenerated(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(workload.FieldManager), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// InPlace reports whether the generated route obj already carries what
// applying it again would set besides its spec: s.Owner as controller and
// Sluice's label.
func InPlace(obj metav1.Object, s Split) bool {
	return ControlledBy(obj, s.Owner) && obj.GetLabels()[LabelManagedBy] == workload.FieldManager
}

// Released reports whether obj is a route Sluice generated and released to
// its user on a hand-back, and that no controller has claimed since.
func Released(obj metav1.Object) bool {
	return metav1.GetControllerOf(obj) == nil && obj.GetAnnotations()[AnnotationHandedBack] != ""
}

// Claim decides whether obj, found at the name of the route Sluice
// generates for s, is s's to manage. One s.Owner controls is; one released
// on an earlier hand-back (see Released) is taken back: one patch, tested
// against the resourceVersion read, removes AnnotationHandedBack and makes
// s.Owner its controller. Any other is someone else's: an
// *UnmanageableRouteError that says to name it in field instead.
func Claim(ctx context.Context, c client.Client, kind string, obj client.Object, s Split, field string) error {
	if ControlledBy(obj, s.Owner) {
		return nil
	}
	if !Released(obj) {
		return &UnmanageableRouteError{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Reasons: []string{
			"it exists and was not generated for this " + s.OwnerKind.Kind +
				"; name it in " + field + " to let Sluice manage its weights",
		}}
	}
	ref := *metav1.NewControllerRef(s.Owner, s.OwnerKind)
	ops := []PatchOp{TestVersion(obj.GetResourceVersion()),
		{Op: "remove", Path: "/metadata/annotations/" + escape(AnnotationHandedBack)}}
	if len(obj.GetOwnerReferences()) == 0 {
		ops = append(ops, PatchOp{Op: "add", Path: "/metadata/ownerReferences", Value: []metav1.OwnerReference{ref}})
	} else {
		ops = append(ops, PatchOp{Op: "add", Path: "/metadata/ownerReferences/-", Value: ref})
	}
	return SendPatch(ctx, c, obj, ops, fmt.Sprintf("claim %s %s/%s, handed back before", kind, obj.GetNamespace(), obj.GetName()))
}

// Finish ends Sluice's management of the generated route obj when s.Owner
// goes, after the route was handed back and drained. A route s.Owner does
// not control is left alone. Otherwise, without keep the route is deleted
// (only the version read). With keep it is released to its user, so that
// it outlives s.Owner: one patch, tested against the resourceVersion read,
// removes s.Owner's owner reference and Sluice's label (the garbage
// collector and Sluice leave it alone from then on), drops Sluice's
// managedFields entries but for the annotation (its fields become the
// user's, see othersFields)
// and sets AnnotationHandedBack. handedBack says that the route sends nothing to
// the Services Sluice owns any more; a route to keep that still does is
// ErrNotHandedBack, and nothing is written. It succeeds when there is
// nothing left to do.
func Finish(ctx context.Context, c client.Client, kind string, obj client.Object, s Split, keep, handedBack bool) error {
	if !ControlledBy(obj, s.Owner) {
		return nil
	}
	if !keep {
		return DeleteRead(ctx, c, kind, obj)
	}
	key := fmt.Sprintf("%s %s/%s", kind, obj.GetNamespace(), obj.GetName())
	if !handedBack {
		return fmt.Errorf("release %s: %w", key, ErrNotHandedBack)
	}
	ops := []PatchOp{TestVersion(obj.GetResourceVersion())}
	refs := obj.GetOwnerReferences()
	for i := len(refs) - 1; i >= 0; i-- {
		if refs[i].UID == s.Owner.GetUID() {
			path := fmt.Sprintf("/metadata/ownerReferences/%d", i)
			ops = append(ops, PatchOp{Op: "test", Path: path + "/uid", Value: refs[i].UID},
				PatchOp{Op: "remove", Path: path})
		}
	}
	if _, ok := obj.GetLabels()[LabelManagedBy]; ok {
		ops = append(ops, PatchOp{Op: "remove", Path: "/metadata/labels/" + escape(LabelManagedBy)})
	}
	from := s.OwnerKind.Kind + "/" + s.Owner.GetName()
	if obj.GetAnnotations() == nil {
		ops = append(ops, PatchOp{Op: "add", Path: "/metadata/annotations", Value: map[string]string{AnnotationHandedBack: from}})
	} else {
		ops = append(ops, PatchOp{Op: "add", Path: "/metadata/annotations/" + escape(AnnotationHandedBack), Value: from})
	}
	ops = append(ops, PatchOp{Op: "replace", Path: "/metadata/managedFields", Value: othersFields(obj)})
	return SendPatch(ctx, c, obj, ops, "release "+key+" to its user")
}

// othersFields is obj's managedFields with Sluice's entries replaced by
// one that owns AnnotationHandedBack alone, so that a released route's
// fields are no longer Sluice's: the user's tool applies it server-side
// with no conflict with Sluice. (Stripping every entry would not do: the
// API server then counts every field as owned by "before-first-apply",
// which conflicts just the same.)
func othersFields(obj metav1.Object) []metav1.ManagedFieldsEntry {
	var kept []metav1.ManagedFieldsEntry
	apiVersion := ""
	for _, e := range obj.GetManagedFields() {
		if e.Manager != workload.FieldManager {
			kept = append(kept, e)
		} else if apiVersion == "" {
			apiVersion = e.APIVersion
		}
	}
	annotation := fmt.Sprintf(`{"f:metadata":{"f:annotations":{"f:%s":{}}}}`, AnnotationHandedBack)
	return append(kept, metav1.ManagedFieldsEntry{Manager: workload.FieldManager, Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: apiVersion, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(annotation)})
}

// escape makes a map key one JSON pointer token (RFC 6901).
func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
