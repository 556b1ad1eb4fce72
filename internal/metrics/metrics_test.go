package metrics

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestObserveReleaseSetsExactlyOnePhase(t *testing.T) {
	g := NewWithT(t)
	c := New()
	reg := prometheus.NewPedanticRegistry()
	g.Expect(c.Register(reg)).To(Succeed())

	c.ObserveRelease("Canary", "shop", "podinfo", v1alpha1.PhaseProgressing, 10)
	c.ObserveRelease("Canary", "shop", "podinfo", v1alpha1.PhaseRolledBack, 0)

	g.Expect(testutil.ToFloat64(c.Phase.WithLabelValues("Canary", "shop", "podinfo", "RolledBack"))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(c.Phase.WithLabelValues("Canary", "shop", "podinfo", "Progressing"))).To(Equal(0.0))
	g.Expect(testutil.ToFloat64(c.Weight.WithLabelValues("Canary", "shop", "podinfo"))).To(Equal(0.0))
}

func TestForgetDropsEverySeriesOfARelease(t *testing.T) {
	g := NewWithT(t)
	c := New()
	c.ObserveRelease("Canary", "shop", "podinfo", v1alpha1.PhaseStable, 0)
	c.ObserveRelease("Canary", "shop", "other", v1alpha1.PhaseStable, 0)
	c.Rollbacks.WithLabelValues("Canary", "shop", "podinfo", "AnalysisFailed").Inc()

	c.Forget("Canary", "shop", "podinfo")

	g.Expect(testutil.CollectAndCount(c.Phase)).To(Equal(len(phases)), "only the other release's phases remain")
	g.Expect(testutil.CollectAndCount(c.Rollbacks)).To(Equal(0))
	err := testutil.CollectAndCompare(c.Weight, strings.NewReader(`
# HELP sluice_release_canary_weight Traffic weight of the canary, 0 to 100, as the router reports it.
# TYPE sluice_release_canary_weight gauge
sluice_release_canary_weight{kind="Canary",name="other",namespace="shop"} 0
`))
	g.Expect(err).NotTo(HaveOccurred())
}

func TestRegisterRefusesASecondRegistration(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	g.Expect(New().Register(reg)).To(Succeed())
	g.Expect(New().Register(reg)).NotTo(Succeed())
}
