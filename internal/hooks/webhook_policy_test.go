package hooks

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
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

// The attack: a hook URL that redirects elsewhere, with the answer read back
// from status. A redirect is not followed, whatever its target, and nothing
// of the target's answer, the Location or the redirect's body is echoed.
func TestAWebhookRedirectIsNotFollowedAndNothingIsEchoed(t *testing.T) {
	target := newEndpoint(t, answer(http.StatusOK, "AKIA-SECRET-FROM-THE-TARGET"))
	for _, tc := range []struct{ name, location string }{
		{"to another host", target.URL + "/steal"},
		{"to the cloud metadata address", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
		{"to loopback", "http://127.0.0.1:1/admin"},
	} {
		for _, code := range []int{http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect} {
			t.Run(tc.name+" with "+http.StatusText(code), func(t *testing.T) {
				g := NewWithT(t)
				ep := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Location", tc.location)
					w.WriteHeader(code)
					_, _ = w.Write([]byte("REDIRECT-BODY"))
				})
				r, _ := newWebhookRunner(t)

				st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, time.Second, 0), "rev1", nil)

				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(st.Phase).To(Equal(v1alpha1.HookFailed), "a redirect is not a pass")
				g.Expect(st.Message).To(ContainSubstring("a redirect, which Sluice does not follow"))
				g.Expect(st.Message).To(ContainSubstring(http.StatusText(code)))
				g.Expect(st.Message).NotTo(ContainSubstring("SECRET"))
				g.Expect(st.Message).NotTo(ContainSubstring("REDIRECT-BODY"))
				g.Expect(st.Message).NotTo(ContainSubstring(tc.location))
				g.Expect(target.calls.Load()).To(BeZero(), "the redirect's target was never called")
			})
		}
	}
}

// The attack: a hook URL whose name resolves to a cloud metadata address.
func TestAWebhookThatResolvesToAMetadataAddressIsRefused(t *testing.T) {
	g := NewWithT(t)
	r, _ := newWebhookRunner(t)
	r.HTTP = outbound.Policy{Resolver: names{"hooks.example.test": "169.254.169.254"}}.HTTPClient()

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook("http://hooks.example.test/run", time.Second, 0), "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
	g.Expect(st.Message).To(Equal("attempt 1 of 1 failed: call failed: refused by Sluice's outbound policy: " +
		"169.254.169.254 is a cloud metadata address (an operator can allow it with the manager flag " +
		"--outbound-allow-cidrs, Helm value outbound.allowCIDRs)"))
}

// Without a client of its own the Runner uses the default policy, never
// http.DefaultClient: a webhook on loopback is refused and never called.
func TestTheDefaultWebhookClientRefusesLoopback(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, answer(http.StatusOK, "ok"))
	r, _ := newWebhookRunner(t)
	r.HTTP = nil

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, time.Second, 0), "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
	g.Expect(st.Message).To(ContainSubstring("127.0.0.1 is a loopback address"))
	g.Expect(ep.calls.Load()).To(BeZero())
}
