package traefik

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/process"
)

// Defaults of Options and names Start uses.
const (
	// DefaultNamespace holds the Gateway and Traefik's ServiceAccount.
	DefaultNamespace = "traefik"
	// GatewayClassName is the GatewayClass Start creates.
	GatewayClassName = "traefik"
	// GatewayName is the Gateway Start creates.
	GatewayName = "sluice"
	// ControllerName is Traefik's Gateway API controller name.
	ControllerName = "traefik.io/gateway-controller"
	// defaultStartTimeout bounds Start when its context has no deadline.
	defaultStartTimeout = time.Minute
)

// Options configure Start.
type Options struct {
	// Namespace holds the Gateway and Traefik's ServiceAccount; empty means
	// DefaultNamespace. Start creates it when missing. Routes of every
	// namespace may attach to the Gateway.
	Namespace string
	// Dir keeps Traefik's token, CA file and log; empty means
	// the cluster's Dir/traefik.
	Dir string
	// Log, when set, receives a line when Traefik starts and stops.
	Log io.Writer
	// ThrottleDuration is the least time between two configurations Traefik
	// applies (its providers.providersThrottleDuration, 2 s by default);
	// zero means 200 ms, so that a new weight takes effect quickly.
	ThrottleDuration time.Duration
}

// Traefik is a running Traefik serving one Gateway.
type Traefik struct {
	namespace   string
	webAddr     string
	metricsAddr string
	logPath     string
	log         io.Writer
	proc        *process.Process

	stopOnce sync.Once
	stopErr  error
}

// Start sets up Traefik's access to c, its GatewayClass and Gateway, and
// runs it. It returns once Traefik answers /ping and the Gateway is
// Programmed; on failure it stops what it started. ctx bounds the start only
// (a minute when it has no deadline): Traefik runs until Stop.
func Start(ctx context.Context, c *cluster.Cluster, o Options) (_ *Traefik, err error) {
	binary, err := Binary()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	t := &Traefik{namespace: cmp.Or(o.Namespace, DefaultNamespace), log: o.Log}
	dir := cmp.Or(o.Dir, filepath.Join(c.Dir(), "traefik"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("traefik: %w", err)
	}
	k, err := newKube(c.Config())
	if err != nil {
		return nil, err
	}
	token, err := k.grantAccess(ctx, t.namespace)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"token": []byte(token), "ca.crt": c.Config().CAData}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("traefik: %w", err)
		}
	}
	webPort, err := process.FreePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := process.FreePort()
	if err != nil {
		return nil, err
	}
	t.webAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(webPort))
	t.metricsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(metricsPort))
	t.logPath = filepath.Join(dir, "traefik.log")
	args := t.args(c.Config().Host, dir, cmp.Or(o.ThrottleDuration, 200*time.Millisecond))
	if err := t.run(binary, args); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, t.Stop())
		}
	}()
	if err := k.createGateway(ctx, t.namespace, webPort); err != nil {
		return nil, err
	}
	if err := t.waitPing(ctx); err != nil {
		return nil, err
	}
	if err := k.waitProgrammed(ctx, t.namespace, t.exitedEarly); err != nil {
		return nil, err
	}
	t.logf("Traefik serves Gateway %s/%s at %s, metrics at %s", t.namespace, GatewayName, t.URL(), t.metricsAddr)
	return t, nil
}

// args are Traefik's flags: entry points, metrics, ping and the Gateway API
// provider reaching the API server with the ServiceAccount's token.
func (t *Traefik) args(host, dir string, throttle time.Duration) []string {
	return []string{
		"--global.checknewversion=false",
		"--global.sendanonymoususage=false",
		"--log.level=INFO",
		"--entrypoints.web.address=" + t.webAddr,
		"--entrypoints.metrics.address=" + t.metricsAddr,
		// On SIGTERM Traefik waits this long for open connections (10 s
		// by default): a test's keep-alive connections need not drain.
		"--entrypoints.web.transport.lifecycle.gracetimeout=1s",
		"--entrypoints.metrics.transport.lifecycle.gracetimeout=1s",
		"--ping=true",
		"--ping.entrypoint=metrics",
		"--metrics.prometheus=true",
		"--metrics.prometheus.entrypoint=metrics",
		"--providers.providersthrottleduration=" + throttle.String(),
		"--providers.kubernetesgateway=true",
		"--providers.kubernetesgateway.endpoint=" + host,
		"--providers.kubernetesgateway.token=" + filepath.Join(dir, "token"),
		"--providers.kubernetesgateway.certauthfilepath=" + filepath.Join(dir, "ca.crt"),
		"--providers.kubernetesgateway.statusaddress.ip=127.0.0.1",
	}
}

// run starts the process, its output going to the log file.
func (t *Traefik) run(binary string, args []string) error {
	p, err := process.Start(process.Options{Name: "traefik", Binary: binary, Args: args, LogPath: t.logPath})
	if err != nil {
		return err
	}
	t.proc = p
	t.logf("started Traefik (pid %d), log %s", p.Pid(), t.logPath)
	return nil
}

// waitPing waits until Traefik answers /ping on its metrics entry point.
func (t *Traefik) waitPing(ctx context.Context) error {
	url := "http://" + t.metricsAddr + "/ping"
	return poll(ctx, "Traefik to answer "+url, t.exitedEarly, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("status %d", resp.StatusCode)
	})
}

// URL is where the Gateway's HTTP listener answers, http://127.0.0.1:PORT.
func (t *Traefik) URL() string {
	return "http://" + t.webAddr
}

// MetricsAddr is the host:port of Traefik's Prometheus metrics, served at
// /metrics, for Prometheus to scrape.
func (t *Traefik) MetricsAddr() string {
	return t.metricsAddr
}

// Gateway is the namespace and name of the Gateway routes attach to (their
// parentRef).
func (t *Traefik) Gateway() (namespace, name string) {
	return t.namespace, GatewayName
}

// LogPath is the file Traefik logs to.
func (t *Traefik) LogPath() string {
	return t.logPath
}

// Stop sends SIGTERM, then SIGKILL after process.StopGrace, and waits for
// Traefik to exit. It reports a Traefik that had exited before, with the end of its
// log. Calling it again returns the same error. The cluster objects Start
// created stay.
func (t *Traefik) Stop() error {
	t.stopOnce.Do(func() {
		if err := t.exitedEarly(); err != nil {
			t.stopErr = err
			return
		}
		t.stopErr = t.proc.Stop()
		t.logf("stopped Traefik (pid %d)", t.proc.Pid())
	})
	return t.stopErr
}

// exitedEarly returns nil while Traefik runs, else an error that quotes the
// end of its log.
func (t *Traefik) exitedEarly() error {
	return t.proc.ExitedEarly()
}

// logf writes one line of progress to Options.Log.
func (t *Traefik) logf(format string, args ...any) {
	if t.log != nil {
		_, _ = fmt.Fprintf(t.log, "traefik: "+format+"\n", args...)
	}
}

// Binary is the path of the Traefik binary: $SLUICE_TRAEFIK, else where
// `hack/tools.sh path traefik` says the cache keeps it. It fails, telling how
// to build it, when no executable is there.
func Binary() (string, error) {
	path := os.Getenv("SLUICE_TRAEFIK")
	if path == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", errors.New("traefik: locate the repository: no caller information")
		}
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		var stderr bytes.Buffer
		cmd := exec.Command(filepath.Join(root, "hack", "tools.sh"), "path", "traefik")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("traefik: ask hack/tools.sh where it is: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		path = strings.TrimSpace(string(out))
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("traefik: no executable at %s: run `make tools` (or `hack/tools.sh traefik`) to build it once, about 10 minutes", path)
	}
	return path, nil
}

// poll calls check every 100 ms until it reports done. It fails when ctx
// ends or when exited reports an error.
func poll(ctx context.Context, what string, exited func() error, check func(context.Context) (bool, error)) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := exited(); err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		done, err := check(ctx)
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w; last: %w", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
