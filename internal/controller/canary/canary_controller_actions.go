package canary

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Execute re-asserts the Services and the primary's autoscaler, then
// carries out the decision's actions (see release.Execute).
func (p *pass) Execute(ctx context.Context) error {
	r, c, router, obs, d := p.r, p.c, p.router, p.obs, p.d
	if obs.target != nil {
		if err := r.ensureServices(ctx, c, obs); err != nil {
			return err
		}
	}
	if err := r.ensureAutoscaler(ctx, c, obs); err != nil {
		return err
	}
	return release.Execute(ctx, d.Actions, func(a rollout.CanaryAction) error {
		switch a := a.(type) {
		case rollout.SetWeight:
			return r.setWeight(ctx, c, router, a.Weight)
		case rollout.EnsurePrimary:
			return r.ensurePrimary(ctx, c, obs, a)
		case rollout.ReplacePrimary:
			return r.replacePrimary(ctx, c, obs)
		case rollout.ScaleCanary:
			_, err := workload.ScaleTo(ctx, r.Client, types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.TargetRef.Name}, a.Replicas)
			return err
		}
		return fmt.Errorf("unknown action %T", a)
	}, "revision", d.Status.CanaryRevision, "step", d.Status.CurrentStep, "weight", d.Status.CanaryWeight)
}

func (r *Reconciler) setWeight(ctx context.Context, c *v1alpha1.Canary, router traffic.Router, weight int32) error {
	split := traffic.CanarySplit(c)
	if err := router.EnsureSplit(ctx, split); err != nil {
		return err
	}
	_, err := router.SetSplit(ctx, split, weight)
	return err
}

// ensurePrimary makes the primary run the action's revision with its
// replicas: the target's template when the target is at that revision
// (initialisation, promotion), else the template the primary ran at it
// before, from its ReplicaSets (a rollback during a promotion).
func (r *Reconciler) ensurePrimary(ctx context.Context, c *v1alpha1.Canary, obs *observation, a rollout.EnsurePrimary) error {
	if obs.target == nil {
		return fmt.Errorf("target Deployment %s is missing", c.Spec.TargetRef.Name)
	}
	cp := workload.PrimaryCopy(c, obs.target, a.Replicas)
	cp.Autoscaled = a.Autoscaled
	if rev := a.Revision; workload.Revision(&obs.target.Spec.Template) != rev {
		tmpl, err := r.templateAt(ctx, rev, obs.primary, obs.target)
		if err != nil {
			return err
		}
		cp.Template = *tmpl
	}
	// Why: a selector cannot change; a stale one is kept until the
	// primary is replaced while it serves nothing (rollout.ReplacePrimary).
	return workload.EnsureDeployment(ctx, r.Client, cp.KeepSelector(obs.primary))
}

// replacePrimary deletes a primary whose selector is stale, so that the
// next reconcile creates it with the selector Sluice gives it now. Its pods
// go with it (background deletion); the Deployment goes at once, so the
// next reconcile, woken by the deletion, finds it missing. A primary this
// Canary does not control, or one already replaced (another UID), is left
// alone.
func (r *Reconciler) replacePrimary(ctx context.Context, c *v1alpha1.Canary, obs *observation) error {
	p := obs.primary
	if p == nil || !metav1.IsControlledBy(p, c) {
		return nil
	}
	ctrl.FromContext(ctx).Info("Replacing the primary, whose selector is stale, while the canary takes all traffic",
		"primary", p.Name, "selector", p.Spec.Selector.MatchLabels)
	err := r.Client.Delete(ctx, p, client.Preconditions{UID: &p.UID}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete primary %s to replace it: %w", p.Name, err)
	}
	return nil
}

// ensureAutoscaler gives the primary a copy of the user's autoscaler on the
// target, so that the service keeps scaling between releases (the target
// sits at zero replicas then, where an autoscaler does nothing), and deletes
// the copy when the user's autoscaler is gone.
func (r *Reconciler) ensureAutoscaler(ctx context.Context, c *v1alpha1.Canary, obs *observation) error {
	name := workload.PrimaryName(c.Spec.TargetRef.Name)
	if obs.autoscaler == nil {
		return workload.DeleteAutoscaler(ctx, r.Client, types.NamespacedName{Namespace: c.Namespace, Name: name}, c)
	}
	if obs.primary == nil {
		return nil
	}
	return workload.EnsureAutoscaler(ctx, r.Client, workload.AutoscalerCopy(obs.autoscaler, name), c)
}

// templateAt finds the pod template of revision rev among the ReplicaSets of
// the primary, then of the target: the primary's history holds the stable
// revision a rollback during a promotion restores, and the target's holds it
// too when the primary was being replaced (its ReplicaSets gone with it).
func (r *Reconciler) templateAt(ctx context.Context, rev string, owners ...*appsv1.Deployment) (*corev1.PodTemplateSpec, error) {
	var list appsv1.ReplicaSetList
	if err := r.Client.List(ctx, &list, client.InNamespace(c0(owners).Namespace)); err != nil {
		return nil, fmt.Errorf("list ReplicaSets in %s: %w", c0(owners).Namespace, err)
	}
	for _, d := range owners {
		if d == nil {
			continue
		}
		for i := range list.Items {
			rs := &list.Items[i]
			if owner := metav1.GetControllerOf(rs); owner == nil || owner.UID != d.UID {
				continue
			}
			if workload.Revision(&rs.Spec.Template) == rev {
				return workload.UserTemplate(&rs.Spec.Template), nil
			}
		}
	}
	return nil, fmt.Errorf("no ReplicaSet of the primary or the target ran revision %s", rev)
}

// c0 is the first Deployment of ds that is not nil; ensurePrimary always
// passes the target, which exists.
func c0(ds []*appsv1.Deployment) *appsv1.Deployment {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return &appsv1.Deployment{}
}
