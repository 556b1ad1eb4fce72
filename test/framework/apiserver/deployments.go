package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// AnnotationNeverReady makes the Deployment stand-in report no ready pods
// for a Deployment, as if its new version crashed on start.
const AnnotationNeverReady = "test.sluice.dev/never-ready"

// DeploymentStandIn plays the parts envtest lacks for Deployments: the
// Deployment controller (one ReplicaSet per pod template, labelled with a
// pod-template-hash, older ones scaled to zero) and the kubelets (every
// wanted pod ready at once). It writes the same objects and status fields
// the real ones write, so the code under test reads them as it would in a
// cluster. The sandbox and the end-to-end suite run the real controllers
// instead.
type DeploymentStandIn struct {
	Client client.Client
}

// SetupWithManager runs the stand-in in mgr.
func (s *DeploymentStandIn) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&appsv1.Deployment{}).Owns(&appsv1.ReplicaSet{}).
		Named("deployment-stand-in").Complete(s)
}

// Reconcile brings one Deployment's ReplicaSets and status up to date.
func (s *DeploymentStandIn) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	d := &appsv1.Deployment{}
	if err := s.Client.Get(ctx, req.NamespacedName, d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !d.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	hash := templateHash(d)
	if err := s.ensureReplicaSets(ctx, d, hash, replicas); err != nil {
		return ctrl.Result{}, err
	}
	ready := replicas
	if d.Annotations[AnnotationNeverReady] == "true" {
		ready = 0
	}
	want := appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: replicas,
		ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: replicas - ready,
	}
	if d.Status.ObservedGeneration == want.ObservedGeneration && d.Status.Replicas == want.Replicas &&
		d.Status.UpdatedReplicas == want.UpdatedReplicas && d.Status.ReadyReplicas == want.ReadyReplicas &&
		d.Status.AvailableReplicas == want.AvailableReplicas {
		return ctrl.Result{}, nil
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Status = want
	return ctrl.Result{}, s.Client.Status().Patch(ctx, d, patch)
}

// ensureReplicaSets creates the ReplicaSet of the current template and
// scales the others to zero, keeping them as the Deployment's history.
func (s *DeploymentStandIn) ensureReplicaSets(ctx context.Context, d *appsv1.Deployment, hash string, replicas int32) error {
	var list appsv1.ReplicaSetList
	if err := s.Client.List(ctx, &list, client.InNamespace(d.Namespace)); err != nil {
		return err
	}
	found := false
	for i := range list.Items {
		rs := &list.Items[i]
		if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID {
			continue
		}
		want := int32(0)
		if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			found, want = true, replicas
		}
		if rs.Spec.Replicas == nil || *rs.Spec.Replicas != want {
			patch := client.MergeFrom(rs.DeepCopy())
			rs.Spec.Replicas = &want
			if err := s.Client.Patch(ctx, rs, patch); err != nil {
				return err
			}
		}
	}
	if found {
		return nil
	}
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Labels = maps.Clone(tmpl.Labels)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	selector := d.Spec.Selector.DeepCopy()
	if selector.MatchLabels == nil {
		selector.MatchLabels = map[string]string{}
	}
	selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: tmpl.Labels},
		Spec:       appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: selector, Template: *tmpl},
	}
	if err := controllerutil.SetControllerReference(d, rs, s.Client.Scheme()); err != nil {
		return err
	}
	if err := s.Client.Create(ctx, rs); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ReplicaSet %s: %w", rs.Name, err)
	}
	return nil
}

// templateHash stands in for the Deployment controller's pod-template-hash:
// a short stable hash of the pod template.
func templateHash(d *appsv1.Deployment) string {
	tmpl := d.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	data, _ := json.Marshal(tmpl)
	h := fnv.New32a()
	_, _ = h.Write(data)
	return fmt.Sprintf("%08x", h.Sum32())[:8]
}
