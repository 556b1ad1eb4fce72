package mesh

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestDestinationHostsNameServicesTheWayIstioReadsThem(t *testing.T) {
	for _, tc := range []struct {
		host string
		want service
		ok   bool
	}{
		{"podinfo-primary", service{"podinfo-primary", "shop"}, true},
		{"podinfo-primary.shop", service{"podinfo-primary", "shop"}, true},
		{"podinfo-primary.other", service{"podinfo-primary", "other"}, true},
		{"podinfo-primary.shop.svc", service{"podinfo-primary", "shop"}, true},
		{"podinfo-primary.shop.svc.cluster.local", service{"podinfo-primary", "shop"}, true},
		{"podinfo-primary.shop.svc.corp.example", service{"podinfo-primary", "shop"}, true},
		{"podinfo-primary.shop.svc.cluster.local:9898", service{"podinfo-primary", "shop"}, true},
		{"example.com.", service{}, false},
		{"api.example.com", service{}, false},
		{"*.shop.svc.cluster.local", service{}, false},
		{"127.0.0.1:8080", service{}, false},
		{"", service{}, false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			g := NewWithT(t)
			got, ok := parseHost(tc.host, "shop")
			g.Expect(ok).To(Equal(tc.ok))
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestCanaryHostsSendTheApexAndPrimaryToThePrimaryAndTheCanaryToTheUsersDeployment(t *testing.T) {
	g := NewWithT(t)
	table, err := newHostTable(CanaryHosts("podinfo"), "shop")
	g.Expect(err).NotTo(HaveOccurred())

	for host, want := range map[string]string{
		"podinfo":                               "podinfo-primary",
		"podinfo.shop.svc.cluster.local":        "podinfo-primary",
		"podinfo-primary.shop":                  "podinfo-primary",
		"podinfo-canary":                        "podinfo",
		"podinfo-canary.shop.svc.cluster.local": "podinfo",
	} {
		_, got, ok := table.resolve(host, "shop")
		g.Expect(ok).To(BeTrue(), host)
		g.Expect(got).To(Equal(want), host)
	}
	_, _, ok := table.resolve("podinfo-canary", "other")
	g.Expect(ok).To(BeFalse(), "a short host in another namespace is another Service")
	_, _, ok = table.resolve("podinfo-canary.other.svc.cluster.local", "shop")
	g.Expect(ok).To(BeFalse())
}

func TestAHostTableRefusesHostsThatNameNoServiceOrTwoWorkloads(t *testing.T) {
	g := NewWithT(t)
	_, err := newHostTable(map[string]string{"api.example.com": "x"}, "shop")
	g.Expect(err).To(MatchError(ContainSubstring("names no Service")))
	_, err = newHostTable(map[string]string{"a": "x", "a.shop.svc.cluster.local": "y"}, "shop")
	g.Expect(err).To(MatchError(ContainSubstring("mapped to both")))
}
