package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// AllowFlag and DenyFlag are the manager's flags that set a Policy's Allow
// and Deny lists; messages name them so that a refusal says how to lift it.
const (
	AllowFlag = "--outbound-allow-cidrs"
	DenyFlag  = "--outbound-deny-cidrs"
)

// dialTimeout bounds a connection attempt that has no earlier deadline.
const dialTimeout = 30 * time.Second

// metadataAddrs are the instance metadata endpoints of the large clouds. Most
// are link-local and refused as such; they are listed so that the refusal says
// what they are, and so that the ones outside link-local are refused at all.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP (metadata.google.internal), Azure, OpenStack, DigitalOcean
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// Resolver looks up the addresses of a host name. *net.Resolver is one;
// tests give a Policy a fixed table instead.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which addresses Sluice may connect to on behalf of a release
// object. The zero value is the default policy: loopback, link-local,
// unspecified, multicast and cloud metadata addresses are refused, anything
// else is allowed.
type Policy struct {
	// Allow exempts addresses from the default refusals (for example
	// 127.0.0.0/8 for a Prometheus on the same machine).
	Allow []netip.Prefix
	// Deny refuses more addresses. It wins over Allow.
	Deny []netip.Prefix
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
}

// RefusedError is a connection the policy refused before it was made.
type RefusedError struct {
	// Addr is the refused address, after name resolution.
	Addr netip.Addr
	// Reason says why, for example "is a cloud metadata address".
	Reason string
}

// Error says what was refused, why, and how an operator lifts it.
func (e *RefusedError) Error() string {
	if strings.Contains(e.Reason, DenyFlag) {
		return fmt.Sprintf("refused by Sluice's outbound policy: %s %s", e.Addr, e.Reason)
	}
	return fmt.Sprintf("refused by Sluice's outbound policy: %s %s "+
		"(an operator can allow it with the manager flag %s, Helm value outbound.allowCIDRs)", e.Addr, e.Reason, AllowFlag)
}

// Check returns a *RefusedError when the policy refuses addr, else nil.
func (p Policy) Check(addr netip.Addr) error {
	addr = addr.Unmap().WithZone("")
	for _, pre := range p.Deny {
		if pre.Contains(addr) {
			return &RefusedError{Addr: addr, Reason: fmt.Sprintf("is in %s, which %s lists", pre, DenyFlag)}
		}
	}
	for _, pre := range p.Allow {
		if pre.Contains(addr) {
			return nil
		}
	}
	if reason := defaultRefusal(addr); reason != "" {
		return &RefusedError{Addr: addr, Reason: reason}
	}
	return nil
}

// defaultRefusal says why the default policy refuses addr, or "" when it
// does not.
func defaultRefusal(addr netip.Addr) string {
	for _, m := range metadataAddrs {
		if addr == m {
			return "is a cloud metadata address"
		}
	}
	switch {
	case !addr.IsValid(), addr.IsUnspecified():
		return "is an unspecified address"
	case addr.IsLoopback():
		return "is a loopback address"
	case addr.IsLinkLocalUnicast():
		return "is a link-local address"
	case addr.IsMulticast():
		return "is a multicast address"
	}
	return ""
}

// DialContext connects to address as net.Dialer does, but resolves the host
// itself (with the policy's Resolver) and checks every address it dials.
func (p Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, err := p.lookup(ctx, network, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: dialTimeout, Control: p.control}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// lookup returns host's addresses, or host itself when it is one.
func (p Policy) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	var r Resolver = net.DefaultResolver
	if p.Resolver != nil {
		r = p.Resolver
	}
	ipNetwork := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNetwork = "ip4"
	case "tcp6", "udp6":
		ipNetwork = "ip6"
	}
	addrs, err := r.LookupNetIP(ctx, ipNetwork, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("lookup %s: no addresses", host)
	}
	return addrs, nil
}

// control is the dialer's last word before a socket connects: the address
// here is the one the connection goes to, whatever name led to it.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound policy: read the address %q: %w", address, err)
	}
	return p.Check(ap.Addr())
}

// ParsePrefixes parses a comma-separated list of CIDRs (a single address is
// taken as its own /32 or /128), as the manager's flags hold them.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR (such as 10.0.0.0/8) or an IP address", s)
		}
		out = append(out, pre.Masked())
	}
	return out, nil
}

// Loopback is 127.0.0.0/8 and ::1: what a laptop user, the sandbox and the
// test suites allow, since their Prometheus and webhooks listen there.
func Loopback() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}
