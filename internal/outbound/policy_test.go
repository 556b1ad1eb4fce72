package outbound

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	. "github.com/onsi/gomega"
)

// table is a Resolver with fixed answers, standing in for DNS.
type table map[string][]netip.Addr

func (t table) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := t[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		addr   string
		reason string // "" when allowed
	}{
		{"the AWS, GCP and Azure metadata address is refused by default", Policy{}, "169.254.169.254", "cloud metadata"},
		{"the AWS IPv6 metadata address is refused by default", Policy{}, "fd00:ec2::254", "cloud metadata"},
		{"the Alibaba metadata address, outside link-local, is refused by default", Policy{}, "100.100.100.200", "cloud metadata"},
		{"a metadata address written as IPv4-mapped IPv6 is refused", Policy{}, "::ffff:169.254.169.254", "cloud metadata"},
		{"link-local IPv4 is refused by default", Policy{}, "169.254.1.1", "link-local"},
		{"link-local IPv6 is refused by default", Policy{}, "fe80::1", "link-local"},
		{"loopback IPv4 is refused by default", Policy{}, "127.0.0.1", "loopback"},
		{"all of 127/8 is loopback", Policy{}, "127.1.2.3", "loopback"},
		{"loopback IPv6 is refused by default", Policy{}, "::1", "loopback"},
		{"the unspecified address is refused by default", Policy{}, "0.0.0.0", "unspecified"},
		{"the unspecified IPv6 address is refused by default", Policy{}, "::", "unspecified"},
		{"multicast is refused by default", Policy{}, "224.0.0.1", "multicast"},
		{"a cluster address is allowed by default", Policy{}, "10.96.0.12", ""},
		{"a public address is allowed by default", Policy{}, "203.0.113.7", ""},
		{"an allowed CIDR lifts the loopback refusal", Policy{Allow: Loopback()}, "127.0.0.1", ""},
		{"allowing loopback does not allow metadata", Policy{Allow: Loopback()}, "169.254.169.254", "cloud metadata"},
		{"a denied CIDR refuses a cluster address", Policy{Deny: mustPrefixes(t, "10.0.0.0/8")}, "10.96.0.12", DenyFlag},
		{"deny wins over allow", Policy{Allow: Loopback(), Deny: mustPrefixes(t, "127.0.0.1")}, "127.0.0.1", DenyFlag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := tc.policy.Check(netip.MustParseAddr(tc.addr))
			if tc.reason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var refused *RefusedError
			g.Expect(errors.As(err, &refused)).To(BeTrue(), "refused: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.reason))
			g.Expect(err.Error()).To(HavePrefix("refused by Sluice's outbound policy"))
		})
	}
}

func mustPrefixes(t *testing.T, list string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParsePrefixes(t *testing.T) {
	g := NewWithT(t)
	got, err := ParsePrefixes(" 10.1.2.3/8, 127.0.0.1 ,::1,, fd00::/8")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8"),
	}))
	none, err := ParsePrefixes("")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(none).To(BeEmpty())
	_, err = ParsePrefixes("10.0.0.0/8,not-a-cidr")
	g.Expect(err).To(MatchError(ContainSubstring(`"not-a-cidr" is not a CIDR`)))
}

func TestDialRefusesANameThatResolvesToAMetadataAddress(t *testing.T) {
	g := NewWithT(t)
	// The name resolves to a listening loopback address first, which is
	// allowed, and to the metadata address: only the allowed one is dialled.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	_, port, _ := net.SplitHostPort(l.Addr().String())

	p := Policy{Resolver: table{"metadata.test": addrs("169.254.169.254")}}
	_, err = p.DialContext(context.Background(), "tcp", net.JoinHostPort("metadata.test", port))
	var refused *RefusedError
	g.Expect(errors.As(err, &refused)).To(BeTrue(), "refused: %v", err)
	g.Expect(refused.Addr).To(Equal(netip.MustParseAddr("169.254.169.254")))

	p = Policy{Resolver: table{"prometheus.test": addrs("127.0.0.1")}}
	_, err = p.DialContext(context.Background(), "tcp", net.JoinHostPort("prometheus.test", port))
	g.Expect(errors.As(err, &refused)).To(BeTrue(), "loopback is refused by default: %v", err)

	p.Allow = Loopback()
	conn, err := p.DialContext(context.Background(), "tcp", net.JoinHostPort("prometheus.test", port))
	g.Expect(err).NotTo(HaveOccurred(), "loopback allowed explicitly")
	_ = conn.Close()
}

func TestDialChecksEveryResolvedAddress(t *testing.T) {
	g := NewWithT(t)
	// A rebinding name answers with a metadata address among good ones; the
	// dialler checks each address it tries, so it never connects there.
	p := Policy{Resolver: table{"rebind.test": addrs("169.254.169.254", "fd00:ec2::254")}}
	_, err := p.DialContext(context.Background(), "tcp", "rebind.test:80")
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("169.254.169.254 is a cloud metadata address"))
	g.Expect(err.Error()).To(ContainSubstring("fd00:ec2::254 is a cloud metadata address"))
}

func TestDialRefusesALiteralAddress(t *testing.T) {
	g := NewWithT(t)
	_, err := Policy{}.DialContext(context.Background(), "tcp", "[fe80::1]:80")
	g.Expect(err).To(MatchError(ContainSubstring("fe80::1 is a link-local address")))
}
