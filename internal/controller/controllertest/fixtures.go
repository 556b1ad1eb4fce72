package controllertest

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// NewNamespace creates a namespace for one test, its name generated from
// prefix ("canary-"), and returns its name. The API server then creates the
// default ServiceAccount pods need.
func NewNamespace(ctx context.Context, c client.Client, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	gomega.ExpectWithOffset(1, c.Create(ctx, ns)).To(gomega.Succeed())
	return ns.Name
}

// Target is the user's Deployment name in ns, not created yet: replicas
// pods of image, selected and labelled app=name, one container named name
// with the port http 9898.
func Target(ns, name, image string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: name, Image: image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
}

// GetDeployment reads the Deployment name of ns; a missing one fails the
// spec.
func GetDeployment(ctx context.Context, c client.Client, ns, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	gomega.ExpectWithOffset(1, c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, d)).To(gomega.Succeed())
	return d
}

// SetImage changes the image of the first container of the Deployment name
// of ns, as a user's Git change does, and returns the new revision.
func SetImage(ctx context.Context, c client.Client, ns, name, image string) string {
	d := GetDeployment(ctx, c, ns, name)
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = image
	gomega.ExpectWithOffset(1, c.Patch(ctx, d, patch)).To(gomega.Succeed())
	return workload.Revision(&d.Spec.Template)
}

// Command writes cmd on obj, a Canary or a BlueGreen as read, as kubectl
// sluice does: an annotation stamped with the time of the request.
func Command(ctx context.Context, c client.Client, obj client.Object, cmd v1alpha1.Command) {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[v1alpha1.CommandAnnotation(cmd)] = time.Now().Format(time.RFC3339Nano)
	obj.SetAnnotations(annotations)
	gomega.ExpectWithOffset(1, c.Patch(ctx, obj, patch)).To(gomega.Succeed())
}

// Condition is the condition of type typ in conds, or the zero Condition.
func Condition(conds []metav1.Condition, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(conds, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// ExpectStalledOnHook waits until conditions (read afresh on each call)
// say Stalled=True with reason InvalidSpec and a message that contains each
// of messages, then checks for two seconds that no Job exists in ns and
// that none of the Deployments named notCreated does: a refused hook runs
// nothing and starts no release.
func ExpectStalledOnHook(ctx context.Context, c client.Client, ns string, conditions func() []metav1.Condition,
	messages []string, notCreated ...string) {
	gomega.EventuallyWithOffset(1, func(g gomega.Gomega) {
		stalled := Condition(conditions(), v1alpha1.ConditionStalled)
		g.Expect(stalled.Status).To(gomega.Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(gomega.Equal(v1alpha1.ReasonInvalidSpec))
		for _, m := range messages {
			g.Expect(stalled.Message).To(gomega.ContainSubstring(m))
		}
	}).Should(gomega.Succeed())
	gomega.ConsistentlyWithOffset(1, func(g gomega.Gomega) {
		jobs := &batchv1.JobList{}
		g.Expect(c.List(ctx, jobs, client.InNamespace(ns))).To(gomega.Succeed())
		g.Expect(jobs.Items).To(gomega.BeEmpty(), "no Job runs as the borrowed ServiceAccount")
		for _, name := range notCreated {
			err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &appsv1.Deployment{})
			g.Expect(apierrors.IsNotFound(err)).To(gomega.BeTrue(), "Deployment %s is not created", name)
		}
	}, "2s").Should(gomega.Succeed())
}

// GetService reads the Service name of ns; a missing one fails the spec.
func GetService(ctx context.Context, c client.Client, ns, name string) *corev1.Service {
	svc := &corev1.Service{}
	gomega.ExpectWithOffset(1, c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, svc)).To(gomega.Succeed())
	return svc
}

// SetNeverReady tells the suite's Deployment stand-in to keep the pods of
// the Deployment name of ns from becoming ready (on), or lets them (off).
func SetNeverReady(ctx context.Context, c client.Client, ns, name string, on bool) {
	value := "null"
	if on {
		value = `"true"`
	}
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%s}}}`, apiserver.AnnotationNeverReady, value)
	d := GetDeployment(ctx, c, ns, name)
	gomega.ExpectWithOffset(1, c.Patch(ctx, d, client.RawPatch(types.MergePatchType, patch))).To(gomega.Succeed())
}

// JobAs is a hook action whose Job runs one container, name of image, as
// the ServiceAccount sa: a borrowed identity, which the operator refuses
// (see ExpectStalledOnHook).
func JobAs(sa, name, image string) v1alpha1.HookAction {
	return v1alpha1.HookAction{Job: &v1alpha1.JobHook{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		ServiceAccountName: sa,
		RestartPolicy:      corev1.RestartPolicyNever,
		Containers:         []corev1.Container{{Name: name, Image: image}},
	}}}}
}

// UserService creates the user's own Service name in ns, as it stands
// before Sluice is brought in: it selects app=name on the TCP port http,
// port; mutate changes it before it is created. It returns the Service as
// the API server created it.
func UserService(ctx context.Context, c client.Client, ns, name string, port int32,
	mutate ...func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: port, Protocol: corev1.ProtocolTCP}},
		},
	}
	for _, m := range mutate {
		m(svc)
	}
	gomega.ExpectWithOffset(1, c.Create(ctx, svc)).To(gomega.Succeed())
	return svc
}
