package service_test

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/sluice-dev/sluice/internal/traffic/service"
)

func TestCheckReady(t *testing.T) {
	deployment := func(replicas, ready int32) *appsv1.Deployment {
		d := &appsv1.Deployment{}
		d.Spec.Replicas = &replicas
		d.Status.Replicas, d.Status.UpdatedReplicas = replicas, replicas
		d.Status.ReadyReplicas, d.Status.AvailableReplicas = ready, ready
		return d
	}
	for _, tc := range []struct {
		name  string
		d     *appsv1.Deployment
		ready bool
		says  string
	}{
		{name: "every wanted pod ready", d: deployment(3, 3), ready: true},
		{name: "a missing Deployment", d: nil, says: "its Deployment shop/app-green is missing"},
		{name: "one pod of three ready", d: deployment(3, 1), says: "has not every pod ready (1/3)"},
		{name: "a Deployment scaled to zero", d: deployment(0, 0), says: "(0/0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := service.CheckReady("shop/app-green", tc.d)
			if tc.ready {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, service.ErrColorNotReady)).To(BeTrue(), "%v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.says))
		})
	}
}
