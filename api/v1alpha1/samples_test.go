package v1alpha1_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// The README's quick start runs `kubectl apply -k config/samples`: kustomize
// builds the directory, kubectl applies what it built. This does the same
// with kustomize's own library and server-side apply, then reads the objects
// back through the typed API.
var _ = Describe("The samples", func() {
	It("apply as the README says, namespace included", func() {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("..", "..", "config", "samples"))
		Expect(err).NotTo(HaveOccurred(), "kustomize build config/samples")
		var kinds []string
		for _, r := range res.Resources() {
			m, err := r.Map()
			Expect(err).NotTo(HaveOccurred())
			obj := &unstructured.Unstructured{Object: m}
			kinds = append(kinds, obj.GetKind())
			Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("kubectl"), client.ForceOwnership)).
				To(Succeed(), "apply %s %s", obj.GetKind(), obj.GetName())
		}
		Expect(kinds).To(Equal([]string{"Namespace", "Canary", "BlueGreen"}), "the namespace comes first")

		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "shop"}, &corev1.Namespace{})).To(Succeed())
		c := &v1alpha1.Canary{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: "shop", Name: "podinfo"}, c)).To(Succeed())
		Expect(c.Spec.Analysis.TemplateRef).To(Equal(&v1alpha1.AnalysisTemplateRef{
			Kind: v1alpha1.KindClusterAnalysisTemplate, Name: "istio"}), "the sample uses the shipped preset")
		bg := &v1alpha1.BlueGreen{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: "shop", Name: "orders"}, bg)).To(Succeed())
		Expect(bg.Spec.Hooks[0].Job.TemplateError).To(BeEmpty())
		Expect(bg.Spec.Hooks[0].Job.Template.Spec.Containers[0].Image).To(Equal("orders-tests:1.4.0"))
	})
})
