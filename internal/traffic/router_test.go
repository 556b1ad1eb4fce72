package traffic_test

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/traffic"
)

// fakeRouter is a Router that does nothing; the registry only stores it.
type fakeRouter struct{ name string }

func (fakeRouter) EnsureSplit(context.Context, traffic.Split) error { return nil }
func (fakeRouter) SetSplit(context.Context, traffic.Split, int32) (bool, error) {
	return false, nil
}
func (fakeRouter) SplitWeight(context.Context, traffic.Split) (int32, error) { return 0, nil }
func (fakeRouter) HandBackSplit(context.Context, traffic.Split) (bool, error) {
	return false, nil
}
func (fakeRouter) FinalizeSplit(context.Context, traffic.Split) error { return nil }

func TestRegistry(t *testing.T) {
	istio := fakeRouter{name: "istio"}
	registry := traffic.Registry{traffic.Istio: istio}

	tests := []struct {
		name    string
		spec    v1alpha1.TrafficRouting
		want    traffic.Router
		wantErr string
	}{
		{
			name: "an istio spec gets the istio router",
			spec: v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			want: istio,
		},
		{
			name:    "a gatewayAPI spec with no gatewayapi router registered is an unknown router, never a default",
			spec:    v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{}},
			wantErr: `unknown traffic router "gatewayapi" (known: istio)`,
		},
		{
			name:    "a spec with no router is an unknown router",
			spec:    v1alpha1.TrafficRouting{},
			wantErr: "unknown traffic router: trafficRouting sets no router",
		},
		{
			name:    "a spec with two routers is an unknown router",
			spec:    v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}, GatewayAPI: &v1alpha1.GatewayAPIRouting{}},
			wantErr: "unknown traffic router: trafficRouting sets both istio and gatewayAPI",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := registry.For(tt.spec)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(tt.wantErr))
				g.Expect(errors.Is(err, traffic.ErrUnknownRouter)).To(BeTrue())
				g.Expect(got).To(BeNil())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestEmptyRegistrySaysNoneIsRegistered(t *testing.T) {
	g := NewWithT(t)
	_, err := traffic.Registry{}.Get("istio")
	g.Expect(err).To(MatchError(`unknown traffic router "istio" (known: none registered)`))
}

func TestErrorsSayWhatIsWrong(t *testing.T) {
	g := NewWithT(t)
	g.Expect((&traffic.RouteNotFoundError{Kind: "VirtualService", Namespace: "shop", Name: "podinfo"}).Error()).
		To(Equal("VirtualService shop/podinfo not found"))
	g.Expect((&traffic.UnmanageableRouteError{Kind: "VirtualService", Namespace: "shop", Name: "podinfo", Reasons: []string{"a", "b"}}).Error()).
		To(Equal("cannot manage VirtualService shop/podinfo: a; b"))
}
