package bluegreen_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
)

var _ = Describe("Deleting a BlueGreen whose generated HTTPRoute a Gateway reaches the app through", func() {
	It("keeps the route, pointed at the active Service, and releases it to the user", func() {
		ns := newNamespace()
		impl := controllertest.RunGatewayImpl(ctx, k8s, ns, target)
		defer impl.Stop()
		impl.Set(metav1.ConditionTrue, "Accepted", "")
		newTarget(ns, "orders:v1", 2)
		newBlueGreen(ns, throughGateway(""))
		waitStable(ns)
		key := types.NamespacedName{Namespace: ns, Name: target}
		generated := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, key, generated)).To(Succeed())

		Expect(k8s.Delete(ctx, getBlueGreen(ns))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, key, &v1alpha1.BlueGreen{}))
		}).Should(BeTrue())
		kept := &gatewayv1.HTTPRoute{}
		Expect(k8s.Get(ctx, key, kept)).To(Succeed(), "the Gateway's only route to the app is never deleted")
		Expect(kept.UID).To(Equal(generated.UID))
		Expect(kept.OwnerReferences).To(BeEmpty())
		Expect(kept.Labels).NotTo(HaveKey("app.kubernetes.io/managed-by"))
		Expect(kept.Annotations).To(HaveKeyWithValue("rollouts.sluice.dev/handed-back-from", "BlueGreen/"+target))
		Expect(kept.Spec.ParentRefs).To(HaveLen(1))
		Expect(kept.Spec.Rules).To(HaveLen(1))
		Expect(kept.Spec.Rules[0].BackendRefs).To(HaveLen(1))
		Expect(string(kept.Spec.Rules[0].BackendRefs[0].Name)).To(Equal(target), "all its traffic goes to the active Service")
	})
})
