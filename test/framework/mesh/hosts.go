package mesh

import (
	"fmt"
	"net"
	"strings"

	"github.com/sluice-dev/sluice/internal/workload"
)

// clusterDomain is the cluster domain of the fully qualified names the
// emulator writes into Host headers and the destination_service label.
const clusterDomain = "cluster.local"

// CanaryHosts maps the Services Sluice manages for a Canary's target to the
// workloads behind them: the apex and primary Services to the primary
// Deployment, the canary Service to the user's Deployment, which runs the
// canary pods.
func CanaryHosts(target string) map[string]string {
	return map[string]string{
		workload.ApexName(target):    workload.PrimaryName(target),
		workload.PrimaryName(target): workload.PrimaryName(target),
		workload.CanaryName(target):  target,
	}
}

// service is a Kubernetes Service, as named by a mesh destination host.
type service struct {
	name      string
	namespace string
}

// fqdn is the service's fully qualified name.
func (s service) fqdn() string {
	return s.name + "." + s.namespace + ".svc." + clusterDomain
}

// parseHost reads the Service a destination host names: svc, svc.ns,
// svc.ns.svc or svc.ns.svc.<cluster domain>, a short name being relative to
// namespace, as Istio reads the hosts of a VirtualService. A port is
// ignored. Other hosts (IP addresses, external names, wildcards) name no
// Service.
func parseHost(host, namespace string) (service, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" || net.ParseIP(host) != nil || strings.Contains(host, "*") {
		return service{}, false
	}
	parts := strings.Split(host, ".")
	for _, p := range parts {
		if p == "" {
			return service{}, false
		}
	}
	switch {
	case len(parts) == 1:
		return service{name: parts[0], namespace: namespace}, namespace != ""
	case len(parts) == 2:
		return service{name: parts[0], namespace: parts[1]}, true
	case parts[2] == "svc":
		return service{name: parts[0], namespace: parts[1]}, true
	default:
		return service{}, false
	}
}

// hostTable resolves destination hosts to the workloads that serve them.
type hostTable map[service]string

// newHostTable reads a host → workload mapping, short hosts being Services
// of namespace.
func newHostTable(hosts map[string]string, namespace string) (hostTable, error) {
	t := make(hostTable, len(hosts))
	for host, w := range hosts {
		svc, ok := parseHost(host, namespace)
		if !ok {
			return nil, fmt.Errorf("host %q names no Service", host)
		}
		if other, dup := t[svc]; dup && other != w {
			return nil, fmt.Errorf("host %q names Service %s, mapped to both %s and %s", host, svc.fqdn(), other, w)
		}
		t[svc] = w
	}
	return t, nil
}

// resolve finds the Service a destination host names, relative to the
// namespace of the route object, and the workload serving it.
func (t hostTable) resolve(host, namespace string) (service, string, bool) {
	svc, ok := parseHost(host, namespace)
	if !ok {
		return service{}, "", false
	}
	w, ok := t[svc]
	return svc, w, ok
}
