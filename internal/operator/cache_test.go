package operator_test

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/operator"
)

func meta(controller string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: "x", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "sluice"}}}
	if controller != "" {
		m.OwnerReferences = []metav1.OwnerReference{{APIVersion: controller, Kind: "Canary", Name: "c", Controller: ptr.To(true)}}
	}
	return m
}

func TestTrimForCache(t *testing.T) {
	for _, tc := range []struct {
		name string
		obj  metav1.Object
		keep bool
	}{
		{"drop the managedFields of the user's Deployment", &appsv1.Deployment{ObjectMeta: meta("")}, false},
		{"keep them on a Deployment a Canary controls (the replicas handover reads them)",
			&appsv1.Deployment{ObjectMeta: meta(v1alpha1.GroupVersion.String())}, true},
		{"drop them on a Deployment another controller owns", &appsv1.Deployment{ObjectMeta: meta("example.com/v1")}, false},
		{"drop them on a Service a Canary controls", &corev1.Service{ObjectMeta: meta(v1alpha1.GroupVersion.String())}, false},
		{"drop them on a ReplicaSet", &appsv1.ReplicaSet{ObjectMeta: meta("apps/v1")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := operator.TrimForCache(tc.obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(BeIdenticalTo(tc.obj))
			g.Expect(out.(metav1.Object).GetManagedFields() != nil).To(Equal(tc.keep))
			g.Expect(out.(metav1.Object).GetName()).To(Equal("x"), "nothing else changes")
		})
	}
	g := NewWithT(t)
	out, err := operator.TrimForCache("not an object")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal("not an object"))
}

func TestCacheOptionsSelectTheJobsSluiceMakes(t *testing.T) {
	g := NewWithT(t)
	o := operator.CacheOptions(nil)
	g.Expect(o.DefaultNamespaces).To(BeNil(), "every namespace")
	var sel labels.Selector
	for obj, by := range o.ByObject {
		if _, ok := obj.(*batchv1.Job); ok {
			sel = by.Label
		}
	}
	g.Expect(sel).NotTo(BeNil())
	g.Expect(sel.Matches(labels.Set{hooks.LabelManagedBy: hooks.ManagedBy})).To(BeTrue())
	g.Expect(sel.Matches(labels.Set{"job-name": "nightly-backup"})).To(BeFalse())
}
