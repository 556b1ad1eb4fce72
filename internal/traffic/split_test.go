package traffic_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
)

func TestBlueGreenSplit(t *testing.T) {
	bg := &v1alpha1.BlueGreen{ObjectMeta: metav1.ObjectMeta{Name: "orders-bg", Namespace: "shop"},
		Spec: v1alpha1.BlueGreenSpec{TargetRef: v1alpha1.TargetRef{Name: "orders"}, Service: v1alpha1.ServicePort{Port: 8080},
			TrafficRouting: &v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{
				HTTPRoute: v1alpha1.GatewayAPIHTTPRoute{Name: "shop-routes"}}}}}

	t.Run("blue takes the rest of the weight and green the weight, so 0 and 100 are the two colors", func(t *testing.T) {
		g := NewWithT(t)
		s := traffic.BlueGreenSplit(bg)
		g.Expect(s.Primary).To(Equal("orders-blue"))
		g.Expect(s.Canary).To(Equal("orders-green"))
		g.Expect(s.OwnerKind.Kind).To(Equal("BlueGreen"))
		g.Expect(s.Port).To(Equal(int32(8080)))
		g.Expect(traffic.SplitRouteName(s)).To(Equal("shop-routes"))
		for _, c := range []v1alpha1.Color{v1alpha1.ColorBlue, v1alpha1.ColorGreen} {
			g.Expect(traffic.ColorOf(traffic.ColorWeight(c))).To(Equal(c))
		}
	})

	t.Run("a weight between 0 and 100 sends traffic to both colors and names none", func(t *testing.T) {
		g := NewWithT(t)
		for _, w := range []int32{1, 50, 99} {
			g.Expect(traffic.ColorOf(w)).To(BeEmpty())
		}
	})

	t.Run("a generated route is named after the target", func(t *testing.T) {
		g := NewWithT(t)
		gen := bg.DeepCopy()
		gen.Spec.TrafficRouting = &v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}}
		g.Expect(traffic.SplitRouteName(traffic.BlueGreenSplit(gen))).To(Equal("orders"))
	})

	t.Run("a Canary's split is its primary and canary Services", func(t *testing.T) {
		g := NewWithT(t)
		c := &v1alpha1.Canary{Spec: v1alpha1.CanarySpec{TargetRef: v1alpha1.TargetRef{Name: "podinfo"}}}
		s := traffic.CanarySplit(c)
		g.Expect([]string{s.Primary, s.Canary}).To(Equal([]string{"podinfo-primary", "podinfo-canary"}))
		g.Expect(s.OwnerKind.Kind).To(Equal("Canary"))
	})
}
