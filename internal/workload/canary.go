package workload

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ErrNoReplicaSet means that the Deployment controller has not yet created
// the ReplicaSet of the user's Deployment's current pod template. It is a
// wait, not a failure: try again once the ReplicaSet exists.
var ErrNoReplicaSet = errors.New("no ReplicaSet runs the Deployment's current pod template yet")

// CanaryHash finds the ReplicaSet the user's Deployment controls for its
// current pod template and returns its pod-template-hash, the label value
// the canary Service selects on. Pass a reader that sees ReplicaSets in the
// target's namespace.
func CanaryHash(ctx context.Context, r client.Reader, target *appsv1.Deployment) (string, error) {
	var list appsv1.ReplicaSetList
	opts := []client.ListOption{client.InNamespace(target.Namespace)}
	if target.Spec.Selector != nil && len(target.Spec.Selector.MatchLabels) > 0 {
		opts = append(opts, client.MatchingLabels(target.Spec.Selector.MatchLabels))
	}
	if err := r.List(ctx, &list, opts...); err != nil {
		return "", fmt.Errorf("list ReplicaSets of Deployment %s/%s: %w", target.Namespace, target.Name, err)
	}
	for i := range list.Items {
		rs := &list.Items[i]
		if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != target.UID {
			continue
		}
		hash := rs.Labels[LabelPodTemplateHash]
		if hash != "" && sameTemplate(rs, target) {
			return hash, nil
		}
	}
	return "", fmt.Errorf("target Deployment %s/%s: %w", target.Namespace, target.Name, ErrNoReplicaSet)
}

// sameTemplate reports whether a ReplicaSet runs the Deployment's current
// template, the way the Deployment controller matches them: equal once the
// pod-template-hash label is left out.
func sameTemplate(rs *appsv1.ReplicaSet, d *appsv1.Deployment) bool {
	a := rs.Spec.Template.DeepCopy()
	b := d.Spec.Template.DeepCopy()
	delete(a.Labels, LabelPodTemplateHash)
	delete(b.Labels, LabelPodTemplateHash)
	return apiequality.Semantic.DeepEqual(a, b)
}
