package prometheus

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// names is a fixed Resolver standing in for DNS.
type names map[string]string

func (n names) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := n[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// The attack: credentials read with the operator's rights, sent in clear.
func TestCredentialsAreNotSentOverPlainHTTPUnlessTheSpecSaysSo(t *testing.T) {
	var calls atomic.Int32
	srv := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		answering(scalarAnswer)(w, r)
	}))
	for _, creds := range []analysis.Credentials{{Username: "u", Password: "p"}, {BearerToken: "t"}} {
		g := NewWithT(t)
		_, err := New(v1alpha1.MetricProvider{Address: srv.URL}, creds, loopback)
		g.Expect(err).To(MatchError(ContainSubstring("credentials are not sent to " + srv.URL + " over plain http")))
		g.Expect(err).To(MatchError(ContainSubstring("allowInsecureCredentials: true")))
	}
	g := NewWithT(t)
	g.Expect(calls.Load()).To(BeZero())

	p, err := New(v1alpha1.MetricProvider{Address: srv.URL, AllowInsecureCredentials: true}, analysis.Credentials{BearerToken: "t"}, loopback)
	g.Expect(err).NotTo(HaveOccurred(), "the spec allows it explicitly")
	g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))

	anonymous, err := New(v1alpha1.MetricProvider{Address: srv.URL}, analysis.Credentials{}, loopback)
	g.Expect(err).NotTo(HaveOccurred(), "no credentials, nothing to protect")
	g.Expect(anonymous.Query(context.Background(), "up")).To(Equal(0.25))
}

func TestCredentialsGoToAnHTTPSAddress(t *testing.T) {
	g := NewWithT(t)
	srv := fakeTLSPrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, "no token", http.StatusForbidden)
			return
		}
		answering(scalarAnswer)(w, r)
	}))
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	p, err := New(v1alpha1.MetricProvider{Address: srv.URL}, analysis.Credentials{BearerToken: "t0ken", CA: ca}, loopback)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))
}

// The attack: a provider address that redirects the authenticated query
// elsewhere. The redirect is not followed, so the credentials go nowhere
// but the address in the spec, and the check is a provider error (it holds).
func TestAProviderRedirectIsNotFollowedWithCredentials(t *testing.T) {
	g := NewWithT(t)
	var leaked atomic.Int32
	target := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		answering(scalarAnswer)(w, r)
	}))
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		origin := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+r.URL.Path, code)
		}))
		p, err := New(v1alpha1.MetricProvider{Address: origin.URL, AllowInsecureCredentials: true},
			analysis.Credentials{BearerToken: "t0ken"}, loopback)
		g.Expect(err).NotTo(HaveOccurred())

		_, err = p.Query(context.Background(), "up")

		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue(), "a provider error holds the release: %v", err)
		g.Expect(err).To(MatchError(ContainSubstring("a redirect, which Sluice does not follow")))
		g.Expect(err.Error()).NotTo(ContainSubstring(target.URL))
	}
	g.Expect(leaked.Load()).To(BeZero(), "the redirect's target never saw the credentials")
}

// The attack: a provider address whose name resolves to a metadata address.
func TestAProviderThatResolvesToAMetadataAddressIsRefused(t *testing.T) {
	g := NewWithT(t)
	policy := outbound.Policy{Resolver: names{"prometheus.example.test": "169.254.169.254"}}
	p, err := New(v1alpha1.MetricProvider{Address: "http://prometheus.example.test:9090"}, analysis.Credentials{}, WithOutbound(policy))
	g.Expect(err).NotTo(HaveOccurred())

	_, err = p.Query(context.Background(), "up")

	g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	g.Expect(err).To(MatchError("provider error: query to http://prometheus.example.test:9090: refused by Sluice's outbound policy: " +
		"169.254.169.254 is a cloud metadata address (an operator can allow it with the manager flag " +
		"--outbound-allow-cidrs, Helm value outbound.allowCIDRs)"))
}

func TestTheDefaultPolicyRefusesAProviderOnLoopback(t *testing.T) {
	g := NewWithT(t)
	var calls atomic.Int32
	srv := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		answering(scalarAnswer)(w, r)
	}))
	p, err := New(v1alpha1.MetricProvider{Address: srv.URL}, analysis.Credentials{})
	g.Expect(err).NotTo(HaveOccurred())

	_, err = p.Query(context.Background(), "up")

	g.Expect(err).To(MatchError(ContainSubstring("127.0.0.1 is a loopback address")))
	g.Expect(calls.Load()).To(BeZero())
}

// fakeTLSPrometheus serves handler over TLS on loopback for the test's
// duration.
func fakeTLSPrometheus(t *testing.T, handler http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	return srv
}
