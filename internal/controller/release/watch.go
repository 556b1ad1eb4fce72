package release

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// targetIndex indexes release objects by the name of their target Deployment.
const targetIndex = "spec.targetRef.name"

// routeIndex indexes release objects by the name of their route object.
const routeIndex = "sluice.route"

// Watch describes one kind of release object for NewController.
type Watch struct {
	// Name of the controller.
	Name string
	// Object is an empty release object (a Canary or a BlueGreen).
	Object client.Object
	// NewList returns an empty list of that kind.
	NewList func() client.ObjectList
	// Target returns the name of a release object's target Deployment.
	Target func(client.Object) string
	// Routes are the kinds of route object the releases write weights to
	// (a VirtualService, an HTTPRoute), watched so that a weight written is
	// read back, and a weight changed by someone else re-asserted, without
	// waiting for a poll. A kind the API server does not serve is skipped.
	Routes []client.Object
	// Route returns the name of the route object a release object uses, or
	// "" when it uses none.
	Route func(client.Object) string
}

// NewController registers r for a kind of release object and what it
// watches: the objects of that kind (spec changes and commands, not its own
// status writes; a new command at PriorityCommand), the Deployments, Services and Jobs they own, and the
// target Deployments they name, found through a field index.
func NewController(mgr ctrl.Manager, w Watch, r reconcile.Reconciler, opts ...func(*builder.Builder)) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), w.Object, targetIndex,
		func(o client.Object) []string { return []string{w.Target(o)} })
	if err != nil {
		return fmt.Errorf("index %s objects by target: %w", w.Name, err)
	}
	if w.Route != nil {
		err = mgr.GetFieldIndexer().IndexField(context.Background(), w.Object, routeIndex,
			func(o client.Object) []string { return []string{w.Route(o)} })
		if err != nil {
			return fmt.Errorf("index %s objects by route: %w", w.Name, err)
		}
	}
	c := mgr.GetClient()
	b := ctrl.NewControllerManagedBy(mgr).
		For(w.Object, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(w.Object, enqueueCommand, builder.WithPredicates(commandChanged)).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&batchv1.Job{}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return ofTarget(ctx, c, w, o)
		})).
		Named(w.Name)
	for _, route := range w.Routes {
		if !served(mgr, route) {
			continue
		}
		b = b.Watches(route, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return releasesBy(ctx, c, w, routeIndex, o)
		}))
	}
	for _, o := range opts {
		o(b)
	}
	return b.Complete(r)
}

// served reports whether the API server serves obj's kind: the route CRDs
// of a mesh the cluster does not run are not installed, and a watch on them
// would keep the controller from starting.
func served(mgr ctrl.Manager, obj client.Object) bool {
	gvk, err := apiutil.GVKForObject(obj, mgr.GetScheme())
	if err != nil {
		return false
	}
	_, err = mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil
}

// ofTarget maps a Deployment to the release objects that target it.
func ofTarget(ctx context.Context, c client.Reader, w Watch, o client.Object) []reconcile.Request {
	return releasesBy(ctx, c, w, targetIndex, o)
}

// releasesBy maps an object to the release objects in its namespace whose
// index entry is its name.
func releasesBy(ctx context.Context, c client.Reader, w Watch, index string, o client.Object) []reconcile.Request {
	list := w.NewList()
	if err := c.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{index: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List the release objects of an object", "index", index, "name", o.GetName())
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(items))
	for _, item := range items {
		if obj, ok := item.(client.Object); ok {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
		}
	}
	return out
}
