package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sluice-dev/sluice/test/framework/deadline"
	"github.com/sluice-dev/sluice/test/framework/process"
)

// defaultStartTimeout bounds Start when its context has no deadline: a hang
// bound, stretched on a loaded machine like every test deadline.
var defaultStartTimeout = deadline.Scale(2 * time.Minute)

// Options configure a cluster started by Start.
type Options struct {
	// Dir holds certificates, the kubeconfig and the process logs. Empty: a temporary directory removed by Stop.
	// Start empties the subdirectories it owns there (etcd, pki, logs), so every cluster starts from scratch.
	Dir string
	// Kubeconfig is where the admin kubeconfig is written. Empty: Dir/kubeconfig.
	Kubeconfig string
	// CRDs are files or directories of CRDs to install before Start returns (may be empty).
	CRDs []string
	// Nodes is the number of kwok fake nodes; zero means 1.
	Nodes int
	// Log, when set, receives one line per process started/stopped (progress for a human).
	Log io.Writer
	// PodReadyDelay makes kwok report a scheduled pod Ready only this long
	// after it could (zero: at once, kwok's default). Lifecycle tests use it
	// so that "ready" takes time, as it does with a real kubelet.
	PodReadyDelay time.Duration
	// PodDeleteDelay makes kwok remove a deleted pod only this long after
	// its deletion (zero: at once), so that pods take time to go away.
	PodDeleteDelay time.Duration
	// AutoscalerSyncPeriod is how often kube-controller-manager's
	// HorizontalPodAutoscaler controller looks at each autoscaler (zero:
	// its default, 15 s). Tests of autoscaling shorten it.
	AutoscalerSyncPeriod time.Duration
	// PodCIDR is the range kwok gives pods their addresses from (empty:
	// 10.244.0.0/16, where nothing listens). A range inside 127.0.0.0/8
	// (LoopbackPodCIDR) gives every pod an address this machine answers
	// on, so that a test can serve each pod on its own address and a real
	// proxy can reach it. The API server refuses loopback addresses in
	// EndpointSlices and Endpoints, so with such a range
	// kube-controller-manager runs without its endpoints controllers and
	// the test writes the slices itself (test/framework/podnet does).
	PodCIDR string
}

// LoopbackPodCIDR is a pod range inside 127.0.0.0/8 for Options.PodCIDR.
const LoopbackPodCIDR = "127.244.0.0/16"

// RandomLoopbackPodCIDR is a /16 inside 127.100.0.0-127.199.255.255 picked at
// random, for a suite's Options.PodCIDR. Why not LoopbackPodCIDR for every
// suite: go test runs several packages at once, each with its own control
// plane and kwok, and two control planes on one range hand out the same pod
// addresses, so one's pods would answer the other's requests (podnet listens
// on the pods' own addresses). The sandbox picks from 127.200 on.
func RandomLoopbackPodCIDR() string {
	return fmt.Sprintf("127.%d.0.0/16", 100+rand.IntN(100))
}

// Cluster is a running control plane with fake nodes. Its methods are safe
// for concurrent use.
type Cluster struct {
	dir        string
	tempDir    bool // dir was created by Start and is removed by Stop
	kubeconfig string
	nodes      []string
	log        io.Writer
	creds      *credentials
	host       string // the API server's URL
	clientset  kubernetes.Interface
	procs      []*process.Process // in the order they started
	stages     []byte             // kwok's stages, with the delays asked for
	hpaSync    time.Duration
	podCIDR    *net.IPNet

	stopOnce sync.Once
	stopErr  error
}

// Start runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok, creates the fake nodes and installs the CRDs. It returns once the
// API server is ready, the `default` ServiceAccount exists in the `default`
// namespace and every node is Ready, so that pods can be created and
// scheduled at once. ctx bounds the start only (two minutes when it has no
// deadline); the cluster runs until Stop, which the caller must call.
//
// When a process exits early Start fails with the end of its log; on any
// failure it stops what it started before it returns.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	return start(ctx, o, bins)
}

// start is Start with the binaries given.
func start(ctx context.Context, o Options, bins binaries) (_ *Cluster, err error) {
	began := time.Now()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	c, err := newCluster(o)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.shutdown())
		}
	}()
	if c.creds, err = newCredentials(serviceIP); err != nil {
		return nil, err
	}
	if err := c.creds.write(c.path("pki")); err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx, bins); err != nil {
		return nil, err
	}
	if err := c.startAgents(bins); err != nil {
		return nil, err
	}
	if err := c.createNodes(ctx); err != nil {
		return nil, err
	}
	if err := c.installCRDs(o.CRDs); err != nil {
		return nil, err
	}
	if err := c.waitSettled(ctx); err != nil {
		return nil, err
	}
	c.logf("ready in %s; KUBECONFIG=%s", time.Since(began).Round(time.Millisecond), c.kubeconfig)
	return c, nil
}

// newCluster prepares the cluster's directory.
func newCluster(o Options) (_ *Cluster, err error) {
	nodes := o.Nodes
	switch {
	case nodes < 0:
		return nil, fmt.Errorf("options: %d nodes; want zero (one node) or more", nodes)
	case nodes == 0:
		nodes = 1
	}
	if o.PodReadyDelay < 0 || o.PodDeleteDelay < 0 || o.AutoscalerSyncPeriod < 0 {
		return nil, errors.New("options: pod delays and the autoscaler sync period must not be negative")
	}
	_, cidr, err := net.ParseCIDR(cmp.Or(o.PodCIDR, defaultPodCIDR))
	if err != nil || cidr.IP.To4() == nil {
		return nil, fmt.Errorf("options: pod CIDR %q is not an IPv4 range such as %s", o.PodCIDR, LoopbackPodCIDR)
	}
	c := &Cluster{dir: o.Dir, kubeconfig: o.Kubeconfig, log: o.Log, hpaSync: o.AutoscalerSyncPeriod,
		stages: stagesWithDelays(kwokStages, o.PodReadyDelay, o.PodDeleteDelay), podCIDR: cidr}
	for i := range nodes {
		c.nodes = append(c.nodes, fmt.Sprintf("kwok-node-%d", i))
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "sluice-cluster-")
		if err != nil {
			return nil, fmt.Errorf("create the cluster's directory: %w", err)
		}
		c.dir, c.tempDir = dir, true
		defer func() {
			if err != nil {
				_ = os.RemoveAll(dir)
			}
		}()
	}
	if c.kubeconfig == "" {
		c.kubeconfig = c.path("kubeconfig")
	}
	for _, sub := range []string{"etcd", "pki", "logs"} {
		// A directory left by an earlier cluster would mix its data, keys
		// and logs with this one's.
		if err := os.RemoveAll(c.path(sub)); err != nil {
			return nil, fmt.Errorf("clear %s: %w", c.path(sub), err)
		}
		if err := os.MkdirAll(c.path(sub), 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", c.path(sub), err)
		}
	}
	return c, nil
}

// installCRDs installs the CRDs in paths, files or directories, and waits
// until the API server serves them.
func (c *Cluster) installCRDs(paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	began := time.Now()
	// envtest waits 10 s for the CRDs to be served by default; a machine
	// at load 40 takes longer.
	opts := envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true, MaxTime: time.Minute}
	crds, err := envtest.InstallCRDs(c.Config(), opts)
	if err != nil {
		return fmt.Errorf("install the CRDs: %w", err)
	}
	c.logf("installed %d CRDs in %s", len(crds), time.Since(began).Round(time.Millisecond))
	return nil
}

// Config reaches the API server as AdminUser, a member of system:masters.
// Every call returns a new copy, which the caller may change.
func (c *Cluster) Config() *rest.Config {
	return c.creds.restConfig(c.host)
}

// KubeconfigPath is the file holding the administrator's kubeconfig.
func (c *Cluster) KubeconfigPath() string {
	return c.kubeconfig
}

// Dir holds the cluster's certificates, etcd data, kubeconfig and process
// logs (Dir/logs/NAME.log).
func (c *Cluster) Dir() string {
	return c.dir
}

// PodCIDR is the range pods get their addresses from.
func (c *Cluster) PodCIDR() string {
	return c.podCIDR.String()
}

// LoopbackPods reports whether pods get addresses in 127.0.0.0/8, which
// this machine answers on (Options.PodCIDR).
func (c *Cluster) LoopbackPods() bool {
	return c.podCIDR.IP.IsLoopback()
}

// Nodes are the names of the fake nodes, where pods are scheduled.
func (c *Cluster) Nodes() []string {
	return append([]string(nil), c.nodes...)
}

// Stop stops kwok, kube-scheduler, kube-controller-manager, kube-apiserver
// and etcd, in that order: SIGTERM, then SIGKILL after ten seconds. It waits
// for each to exit and then removes Dir if Start created it. It reports a
// process that had exited before, with the end of its log. Calling it again
// does nothing and returns the same error.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		for _, p := range c.procs {
			errs = append(errs, p.ExitedEarly())
		}
		c.stopErr = errors.Join(append(errs, c.shutdown())...)
	})
	return c.stopErr
}

// shutdown stops the processes, last started first, and removes a temporary
// Dir.
func (c *Cluster) shutdown() error {
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		if err := p.Stop(); err != nil {
			errs = append(errs, err)
		}
		c.logf("stopped %s (pid %d)", p.Name(), p.Pid())
	}
	if c.tempDir {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.dir, err))
		}
	}
	return errors.Join(errs...)
}

// path names a file or directory in Dir.
func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.dir}, elem...)...)
}

// run starts a process and adds it to those Stop stops.
func (c *Cluster) run(name, binary string, args ...string) (*process.Process, error) {
	p, err := process.Start(process.Options{Name: name, Binary: binary, Args: args,
		LogPath: c.path("logs", name+".log")})
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	c.logf("started %s (pid %d), log %s", name, p.Pid(), p.LogPath())
	return p, nil
}

// exitedEarly reports the first process that has exited.
func (c *Cluster) exitedEarly() error {
	for _, p := range c.procs {
		if err := p.ExitedEarly(); err != nil {
			return err
		}
	}
	return nil
}

// logf writes one line of progress to Options.Log.
func (c *Cluster) logf(format string, args ...any) {
	if c.log != nil {
		_, _ = fmt.Fprintf(c.log, "cluster: "+format+"\n", args...)
	}
}
