// Package podnet gives the pods of a local control plane
// (test/framework/cluster with kwok) a network on one machine: test support,
// never imported by the operator.
//
// kwok runs no container, so nothing answers at a pod's address. With
// cluster.Options.PodCIDR set to cluster.LoopbackPodCIDR every pod gets an
// address in 127.0.0.0/8, which Linux answers on without any setup. Start
// then does, for the pods and Services of one namespace, what a kubelet and
// kube-controller-manager's EndpointSlice controller do in a cluster:
//
//   - Servers: every pod that has an address is served on its address and
//     each of its declared container ports by an HTTP server that answers by
//     the image the pod runs, as Options.Images says that image answers
//     (errors, latency): releasing a bad image is all it takes to make a
//     version bad. Each answer names the image tag and the pod in the
//     X-Sluice-Image and X-Sluice-Pod headers. A pod's server keeps serving
//     for Options.Linger after the pod is gone, as a real pod drains while
//     its endpoints are withdrawn.
//   - EndpointSlices: for every Service with a selector, one slice listing
//     the pods it selects, Ready as the pod's Ready condition says (and not
//     while it is being deleted). The API server refuses loopback addresses
//     in IPv4 slices, so the slices use the FQDN address type, whose
//     validation accepts a dotted address; a Gateway API implementation
//     such as Traefik reads the address and connects to it. The slices are
//     owned by their Service and labeled as the EndpointSlice controller
//     labels them (kubernetes.io/service-name), with a managed-by of their
//     own.
//
// Everything follows watches of Pods and Services, so a pod that becomes
// ready, a canary scaled to zero or a selector that changes shows in the
// slices within milliseconds:
//
//	n, err := podnet.Start(ctx, c.Config(), podnet.Options{Namespace: "shop", Images: images})
//	...
//	defer n.Stop()
package podnet
