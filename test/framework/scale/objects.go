package scale

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// name is the name of the i-th Deployment and Canary.
func name(i int) string { return fmt.Sprintf("app-%04d", i) }

// release is the i-th Deployment (one replica) and its Canary: 10%, a timed
// pause, 50%, the same pause, then the promotion; no analysis.
func release(ns string, i int, pause time.Duration) (*appsv1.Deployment, *v1alpha1.Canary) {
	labels := map[string]string{"app": name(i)}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name(i), Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "podinfo:6.0.0", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
	p := &v1alpha1.Pause{Duration: &metav1.Duration{Duration: pause}}
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name(i), Namespace: ns},
		Spec: v1alpha1.CanarySpec{
			TargetRef:      v1alpha1.TargetRef{Name: name(i)},
			Service:        v1alpha1.ServicePort{Port: 9898},
			TrafficRouting: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps: []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](10)}, {Pause: p}, {SetWeight: ptr.To[int32](50)}, {Pause: p},
			},
			ProgressDeadlineSeconds: 600,
			DrainDelay:              &metav1.Duration{Duration: time.Second},
		},
	}
	return d, c
}

// pauseSteps are the indexes of the timed pauses in release's steps.
var pauseSteps = []int32{1, 3}

// setImage gives the i-th Deployment a new image: a new revision.
func setImage(ctx context.Context, k8s client.Client, ns string, i int, image string) error {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name(i)}}
	patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	return k8s.Patch(ctx, d, client.RawPatch("application/strategic-merge-patch+json", patch))
}

// annotate sets an annotation on the i-th Canary.
func annotate(ctx context.Context, k8s client.Client, ns string, i int, key, value string) error {
	c := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name(i)}}
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, key, value)
	return k8s.Patch(ctx, c, client.RawPatch("application/merge-patch+json", patch))
}

// waitCanaries polls until ok holds for every Canary of indexes, or ctx
// ends.
func waitCanaries(ctx context.Context, k8s client.Client, ns string, indexes []int, ok func(*v1alpha1.Canary) bool) error {
	want := map[string]bool{}
	for _, i := range indexes {
		want[name(i)] = true
	}
	for {
		list := &v1alpha1.CanaryList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		done := 0
		for i := range list.Items {
			if want[list.Items[i].Name] && ok(&list.Items[i]) {
				done++
			}
		}
		if done == len(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d Canaries: %w", done, len(want), ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// readyAt reports whether a Canary is Ready and stable at a revision other
// than before.
func readyAt(before map[string]string) func(*v1alpha1.Canary) bool {
	return func(c *v1alpha1.Canary) bool {
		return meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) &&
			c.Status.StableRevision != "" && c.Status.StableRevision != before[c.Name]
	}
}

// stableRevisions returns each Canary's stable revision.
func stableRevisions(ctx context.Context, k8s client.Client, ns string) (map[string]string, error) {
	list := &v1alpha1.CanaryList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range list.Items {
		out[c.Name] = c.Status.StableRevision
	}
	return out, nil
}

func indexes(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
