package operator

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/hooks"
)

// CacheOptions are the informer cache's options: namespaces to watch (nil:
// every namespace), managedFields dropped from what is cached (see
// TrimForCache), and Jobs cached only when Sluice made them. Services,
// Deployments, ReplicaSets and routes are cached whole and unselected: the
// apex Service may be the user's own (adopted), the target Deployment and its
// ReplicaSets are the user's, and a named route is the user's too.
func CacheOptions(namespaces map[string]cache.Config) cache.Options {
	return cache.Options{
		DefaultNamespaces: namespaces,
		DefaultTransform:  TrimForCache,
		ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}: {
				Label:     labels.SelectorFromSet(labels.Set{hooks.LabelManagedBy: hooks.ManagedBy}),
				Transform: TrimForCache,
			},
		},
	}
}

// TrimForCache drops managedFields from an object before the cache stores
// it: they are often the largest part of an object, and Sluice reads them
// only on the Deployments it manages (the replicas handover to an
// autoscaler), which keep them. A write sent from a trimmed object leaves
// the managedFields on the server as they are.
func TrimForCache(obj any) (any, error) {
	o, ok := obj.(metav1.Object)
	if !ok || len(o.GetManagedFields()) == 0 {
		return obj, nil
	}
	if _, isDeployment := obj.(*appsv1.Deployment); isDeployment && controlledBySluice(o) {
		return obj, nil
	}
	o.SetManagedFields(nil)
	return obj, nil
}

// controlledBySluice reports whether o's controller is a Canary or a
// BlueGreen.
func controlledBySluice(o metav1.Object) bool {
	ref := metav1.GetControllerOfNoCopy(o)
	if ref == nil {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == v1alpha1.GroupVersion.Group
}
