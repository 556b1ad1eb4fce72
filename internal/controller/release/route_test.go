package release_test

import (
	"errors"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/traffic"
)

func TestReadRoute(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("read weight: %w", err) }
	missing := &traffic.RouteNotFoundError{Kind: "VirtualService", Namespace: "shop", Name: "app"}
	inconsistent := &traffic.InconsistentWeightsError{Kind: "VirtualService", Weights: map[string]int32{"a": 10, "b": 20}}
	unmanageable := &traffic.UnmanageableRouteError{Kind: "HTTPRoute", Reasons: []string{"no managed rule"}}
	notAccepted := &traffic.RouteNotAcceptedError{Kind: "HTTPRoute", CanaryWeight: 30}
	for _, tc := range []struct {
		name string
		w    int32
		err  error
		want release.RouteRead
	}{
		{name: "a weight read back", w: 40, want: release.RouteRead{Weight: 40}},
		{name: "a missing route is an observation", err: wrap(missing),
			want: release.RouteRead{Missing: missing.Error()}},
		{name: "routes that disagree are an observation, at the highest of their weights", err: wrap(inconsistent),
			want: release.RouteRead{Weight: 20, Inconsistent: inconsistent.Error()}},
		{name: "a route Sluice cannot manage is an observation", err: wrap(unmanageable),
			want: release.RouteRead{Unmanageable: unmanageable.Error()}},
		{name: "weights not accepted are an observation, at the weight the route carries", err: wrap(notAccepted),
			want: release.RouteRead{Weight: 30, NotAccepted: notAccepted.Error()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			rr, err := release.ReadRoute(tc.w, tc.err)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(rr).To(Equal(tc.want))
		})
	}
	t.Run("any other error is transient and comes back as it is", func(t *testing.T) {
		g := NewWithT(t)
		refused := errors.New("connection refused")
		_, err := release.ReadRoute(50, wrap(refused))
		g.Expect(errors.Is(err, refused)).To(BeTrue())
	})
}
