package release

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// versions is a reader holding one version of one Canary (none when rv is
// empty), counting its reads.
type versions struct {
	rv    string
	reads int
}

func (v *versions) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	v.reads++
	if v.rv == "" {
		return apierrors.NewNotFound(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "canaries"}, key.Name)
	}
	c := obj.(*v1alpha1.Canary)
	*c = v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, ResourceVersion: v.rv}}
	return nil
}

func (v *versions) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func TestFreshReader(t *testing.T) {
	key := canaryKey("podinfo")
	read := func(g Gomega, f *FreshReader) string {
		c := &v1alpha1.Canary{}
		g.Expect(f.Get(context.Background(), key, c)).To(Succeed())
		return c.ResourceVersion
	}
	t.Run("read the API server while nothing is known of the object, then the cache once it holds that version", func(t *testing.T) {
		g := NewWithT(t)
		cache, api := &versions{rv: "7"}, &versions{rv: "7"}
		f := NewFreshReader(cache, api)
		g.Expect(read(g, f)).To(Equal("7"))
		g.Expect(api.reads).To(Equal(1), "nothing known after a start: the first read goes to the API server")
		g.Expect(read(g, f)).To(Equal("7"))
		g.Expect(api.reads).To(Equal(1), "the cache holds the newest version known: no round trip")
	})
	t.Run("read the API server while the cache lags a version this process wrote", func(t *testing.T) {
		g := NewWithT(t)
		cache, api := &versions{rv: "7"}, &versions{rv: "8"}
		f := NewFreshReader(cache, api)
		f.Saw(&v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, ResourceVersion: "8"}})
		g.Expect(read(g, f)).To(Equal("8"), "never the version older than the write")
		g.Expect(api.reads).To(Equal(1))
		cache.rv = "8"
		g.Expect(read(g, f)).To(Equal("8"))
		g.Expect(api.reads).To(Equal(1), "the cache caught up")
	})
	t.Run("read the API server when the cache holds a version someone else wrote since", func(t *testing.T) {
		g := NewWithT(t)
		cache, api := &versions{rv: "9"}, &versions{rv: "9"}
		f := NewFreshReader(cache, api)
		f.Saw(&v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, ResourceVersion: "8"}})
		g.Expect(read(g, f)).To(Equal("9"))
		g.Expect(api.reads).To(Equal(1), "a version it does not know is read again, and then known")
		g.Expect(read(g, f)).To(Equal("9"))
		g.Expect(api.reads).To(Equal(1))
	})
	t.Run("forget an object the API server no longer has", func(t *testing.T) {
		g := NewWithT(t)
		cache, api := &versions{rv: "7"}, &versions{rv: "7"}
		f := NewFreshReader(cache, api)
		g.Expect(read(g, f)).To(Equal("7"))
		api.rv = ""
		f.Saw(&v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, ResourceVersion: "8"}})
		err := f.Get(context.Background(), key, &v1alpha1.Canary{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		_, known := f.version(key)
		g.Expect(known).To(BeFalse())
	})
}
