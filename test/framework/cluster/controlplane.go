package cluster

import (
	"context"
	_ "embed" // the kwok stages
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/sluice-dev/sluice/test/framework/process"
)

// Addresses inside the cluster. They only need to differ from each other:
// nothing routes to them.
const (
	serviceCIDR    = "10.96.0.0/16"
	defaultPodCIDR = "10.244.0.0/16"
)

// serviceIP is the address of the `kubernetes` Service, the first of
// serviceCIDR.
var serviceIP = net.IPv4(10, 96, 0, 1)

// portAttempts is how many sets of free ports startAPIServer tries.
const portAttempts = 3

// pollInterval is how often Start checks what it waits for.
const pollInterval = 100 * time.Millisecond

// kwokStages are the kwok stages that kwokctl uses by default (v0.8.0: node
// fast initialize, heartbeat with lease, pod fast ready/complete/delete).
//
//go:embed kwok-stages.yaml
var kwokStages []byte

// startAPIServer runs etcd and kube-apiserver and waits until the API server
// is ready. When one of them exits because a port picked for it was taken
// meanwhile, it stops both and tries other ports.
func (c *Cluster) startAPIServer(ctx context.Context, bins binaries) error {
	var err error
	for range portAttempts {
		if err = c.tryAPIServer(ctx, bins); !errors.Is(err, process.ErrPortTaken) {
			return err
		}
		c.logf("a port was taken before etcd or kube-apiserver bound it; trying others")
		for _, p := range c.procs {
			_ = p.Stop()
		}
		c.procs = nil
		if err := os.RemoveAll(c.path("etcd")); err != nil {
			return fmt.Errorf("clear etcd's data: %w", err)
		}
	}
	return err
}

// tryAPIServer makes one attempt of startAPIServer.
func (c *Cluster) tryAPIServer(ctx context.Context, bins binaries) error {
	ports := make([]int, 3)
	for i := range ports {
		port, err := process.FreePort()
		if err != nil {
			return err
		}
		ports[i] = port
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if _, err := c.run("etcd", bins.etcd,
		"--name=sluice",
		"--data-dir="+c.path("etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=sluice="+peerURL,
		"--unsafe-no-fsync=true", // a test cluster need not survive a power cut
	); err != nil {
		return err
	}
	pki := c.path("pki")
	if _, err := c.run("kube-apiserver", bins.apiserver,
		"--etcd-servers="+etcdURL,
		"--advertise-address=127.0.0.1",
		// The `kubernetes` Service gets no endpoints: a loopback address is
		// not a valid one, and nothing runs in pods to use it.
		"--endpoint-reconciler-type=none",
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--cert-dir="+pki,
		"--tls-cert-file="+c.path("pki", servingCertFile),
		"--tls-private-key-file="+c.path("pki", servingKeyFile),
		"--client-ca-file="+c.path("pki", caCertFile),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.path("pki", saPublicKeyFile),
		"--service-account-signing-key-file="+c.path("pki", saKeyFile),
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=RBAC",
		// Aggregation, as kubeadm sets it up: the API server proxies an
		// APIService's requests with the front proxy's client certificate
		// and says who asked in these headers (ServeMetrics uses it).
		"--requestheader-client-ca-file="+c.path("pki", frontProxyCAFile),
		"--requestheader-allowed-names="+FrontProxyUser,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+c.path("pki", proxyClientCert),
		"--proxy-client-key-file="+c.path("pki", proxyClientKey),
		"--allow-privileged=true",
		"--profiling=false",
	); err != nil {
		return err
	}
	c.host = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	clientset, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		return fmt.Errorf("create a client: %w", err)
	}
	c.clientset = clientset
	err = c.waitFor(ctx, "kube-apiserver to be ready", func(ctx context.Context) (bool, error) {
		_, err := clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil, err
	})
	if err != nil {
		return err
	}
	c.logf("kube-apiserver ready at %s", c.host)
	return nil
}

// startAgents writes the kubeconfigs and runs the programs that act on the
// API server's objects: kube-controller-manager, kube-scheduler and kwok.
// None of them serves HTTP; none needs a port.
func (c *Cluster) startAgents(bins binaries) error {
	if err := c.creds.writeKubeconfig(c.host, c.kubeconfig); err != nil {
		return err
	}
	// The processes read their own copy, which the user cannot edit.
	kubeconfig := c.path("pki", "admin.kubeconfig")
	if err := c.creds.writeKubeconfig(c.host, kubeconfig); err != nil {
		return err
	}
	stages := c.path("kwok-stages.yaml")
	if err := os.WriteFile(stages, c.stages, 0o600); err != nil {
		return fmt.Errorf("write kwok's stages: %w", err)
	}
	kcm := []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file=" + c.path("pki", saKeyFile),
		"--root-ca-file=" + c.path("pki", caCertFile),
	}
	if c.LoopbackPods() {
		// The API server refuses loopback addresses in EndpointSlices and
		// Endpoints: these controllers would only retry failed writes.
		kcm = append(kcm, "--controllers=*,-endpointslice-controller,-endpoints-controller,-endpointslice-mirroring-controller")
	}
	if c.hpaSync > 0 {
		kcm = append(kcm, "--horizontal-pod-autoscaler-sync-period="+c.hpaSync.String())
	}
	if _, err := c.run("kube-controller-manager", bins.controllerManager, kcm...); err != nil {
		return err
	}
	if _, err := c.run("kube-scheduler", bins.scheduler,
		"--kubeconfig="+kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	); err != nil {
		return err
	}
	_, err := c.run("kwok", bins.kwok,
		"--kubeconfig="+kubeconfig,
		"--config="+stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+nodeAnnotation+"="+nodeAnnotationValue,
		"--cidr="+c.PodCIDR(),
		// Without leases the nodes' heartbeat is their status, which the
		// stages update every ten minutes: kube-controller-manager would
		// find the nodes unreachable after 50s and evict their pods.
		"--node-lease-duration-seconds=40",
	)
	return err
}

// waitFor polls check until it reports done. It fails when ctx ends or when
// a process of the cluster has exited.
func (c *Cluster) waitFor(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if err := c.exitedEarly(); err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		done, err := check(ctx)
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("wait for %s: %w; last error: %w", what, ctx.Err(), err)
			}
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}
